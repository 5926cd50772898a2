import { handlers } from '../../../../server/auth/nextAuth';

export const dynamic = 'force-dynamic';
export const { GET, POST } = handlers;
