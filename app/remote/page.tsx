import type { Metadata } from 'next';
import RemoteConsole from './RemoteConsole';

export const metadata: Metadata = { title: 'Remote console · Tandem' };

/** `/remote`: run a command in many rooms at once and watch the results (the instructor's console). */
export default function RemotePage() {
  return <RemoteConsole />;
}
