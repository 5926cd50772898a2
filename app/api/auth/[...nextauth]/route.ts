import { handlers } from '../../../../lib/auth/nextAuth';

export const dynamic = 'force-dynamic';
export const { GET, POST } = handlers;
