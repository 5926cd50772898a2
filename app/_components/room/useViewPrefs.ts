'use client';

import { useSyncExternalStore } from 'react';
import { DEFAULT_PREFS, ViewPrefsStore, type ViewPrefs } from '../../../lib/browser/room/viewPrefs';

let store: ViewPrefsStore | null = null;
const prefsStore = () => (store ??= new ViewPrefsStore(typeof localStorage === 'undefined' ? null : localStorage));

/** This viewer's terminal prefs (text size, fit, follow, screen reader), remembered in this browser. */
export function useViewPrefs(): [ViewPrefs, (patch: Partial<ViewPrefs>) => void] {
  const prefs = useSyncExternalStore(
    (l) => prefsStore().subscribe(l),
    () => prefsStore().getSnapshot(),
    () => DEFAULT_PREFS,
  );
  return [prefs, (patch) => prefsStore().update(patch)];
}

/** Whether a media query matches (false while rendering on the server). */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (l) => {
      const m = window.matchMedia(query);
      m.addEventListener('change', l);
      return () => m.removeEventListener('change', l);
    },
    () => window.matchMedia(query).matches,
    () => false,
  );
}
