/** next-auth's sign-in error names (and our `code`) in words. */
export function signInProblem(error: string | null | undefined, code?: string | null): string | null {
  if (!error) return null;
  if (code === 'RATE_LIMITED' || code === 'rate_limited') return 'Too many sign-in attempts. Wait a minute and try again.';
  switch (error) {
    case 'CredentialsSignin':
      return 'Wrong email or password.';
    case 'OAuthAccountNotLinked':
      return 'That GitHub account’s email already has a password account here. Sign in with your password.';
    case 'AccessDenied':
      return 'Sign-in was refused.';
    case 'Configuration':
      return 'Sign-in is not configured correctly on the server. Tell the person who runs it.';
    default:
      return `Sign-in failed (${error}). Try again.`;
  }
}
