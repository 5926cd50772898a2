'use client';

import { useEffect, useState, useSyncExternalStore } from 'react';
import type { CoreState, SessionCore } from '../../../lib/browser/room/SessionCore';

const noSubscribe = () => () => {};

/**
 * Runs a framework-free room session while the component is mounted (a new one per `key`) and
 * renders its snapshot. `start` may load scripts first; `initial` shows until then, and a start
 * that fails shows as a refusal with the reason.
 */
export function useSession<S extends CoreState, T extends SessionCore<S>>(key: string, start: () => Promise<T | null>, initial: S): [T | null, S] {
  const [session, setSession] = useState<T | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    let disposed = false;
    let made: T | null = null;
    start().then(
      (s) => {
        if (s && disposed) return s.dispose();
        made = s;
        setSession(s);
      },
      (err) => !disposed && setFailure(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      disposed = true;
      made?.dispose();
      setSession(null);
    };
    // `start` is the page's recipe for this key: a new key is a new session.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const snap = useSyncExternalStore(session?.subscribe ?? noSubscribe, () => session?.getSnapshot() ?? initial, () => initial);
  return [session, failure && !session ? { ...initial, fatal: { code: 'INTERNAL', message: failure } } : snap];
}
