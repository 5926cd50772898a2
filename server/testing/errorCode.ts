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

/** Awaits a Socket.IO connect and names how it ended: 'connected', or the code the server refused it with. */
export async function connectOutcome(connecting: Promise<unknown>): Promise<string> {
  try {
    await connecting;
    return 'connected';
  } catch (e) {
    return (e as { data?: { code: string } }).data?.code ?? String(e);
  }
}
