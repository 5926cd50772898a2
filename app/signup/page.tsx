import type { Metadata } from 'next';
import { safeNext } from '../../lib/browser/client/accountsApi';
import SignUpForm from './SignUpForm';

export const metadata: Metadata = { title: 'Create an account · Tandem' };

/** `/signup?next=/path`: email, name and password; signs in and goes on to `next`. */
export default async function SignUpPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const { next } = await searchParams;
  return <SignUpForm next={safeNext(next)} />;
}
