import type { TandemError } from '../../lib/shared/errors';

/** The TandemError code `fn` throws, or null when it does not throw: for the relays' unit tests. */
export function errCode(fn: () => void): string | null {
  try {
    fn();
  } catch (e) {
    return (e as TandemError).code;
  }
  return null;
}
