import { TandemError, type ErrorCode } from '../../lib/shared/errors';

/** Runs `f` and names how it ended: 'ok', or the TandemError code it threw (anything else rethrows). */
export function errorCode(f: () => unknown): ErrorCode | 'ok' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof TandemError) return e.code;
    throw e;
  }
}
