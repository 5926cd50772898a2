import type { Metadata } from 'next';
import JoinInvite from './JoinInvite';

export const metadata: Metadata = { title: 'Join a room · Tandem' };

/** `/join/<token>`: an invite link's landing page. */
export default async function JoinPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return <JoinInvite token={token} />;
}
