import type { Metadata } from 'next';
import { githubEnabled } from '../../server/auth/nextAuth';
import { safeNext } from '../../lib/browser/client/accountsApi';
import SignInForm from './SignInForm';

export const metadata: Metadata = { title: 'Sign in · Tandem' };
// Whether GitHub is configured is read from the server's environment at request time.
export const dynamic = 'force-dynamic';

/** `/signin?next=/path`: email + password (and GitHub when the server has it configured). */
export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string; error?: string; code?: string }> }) {
  const { next, error, code } = await searchParams;
  return <SignInForm next={safeNext(next)} initialError={error ?? null} initialCode={code ?? null} github={githubEnabled()} />;
}
