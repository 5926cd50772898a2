import { auth } from '../server/auth/nextAuth';
import Dashboard from './_components/Dashboard';
import Room from './_components/Room';

// Who is signed in decides what `/` is: never prerender it.
export const dynamic = 'force-dynamic';

/**
 * `/`: signed in, the dashboard of my rooms; signed out, the default room's terminal (an open
 * room anyone may use, like WebVM's front page), with "Sign in / Sign up" in its top bar.
 */
export default async function Home() {
  const session = await auth();
  const u = session?.user;
  if (u?.id) return <Dashboard user={{ id: u.id, email: u.email ?? '', name: u.name ?? u.email ?? 'you' }} />;
  return <Room roomId="default" />;
}
