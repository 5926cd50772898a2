import type { Metadata } from 'next';
import { safeNext } from '../../lib/client/accountsApi';
import SignInForm from './SignInForm';

export const metadata: Metadata = { title: 'Sign in · Tandem' };

/** `/signin?next=/path`: email + password (and GitHub when the server has it configured). */
export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string; error?: string }> }) {
  const { next, error } = await searchParams;
  return <SignInForm next={safeNext(next)} initialError={error ?? null} />;
}
