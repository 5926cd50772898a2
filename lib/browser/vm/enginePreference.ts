import type { EngineChoice } from './createEngine';

/** Set when CheerpX could not start in this browser: later rooms go straight to v86. */
const CHEERPX_FAILED_KEY = 'tandem:cheerpx-failed';

type KV = Pick<Storage, 'getItem' | 'setItem'>;
const storage = (): KV | null => {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage blocked (privacy settings): no memory, no harm
  }
};

export function rememberCheerpXFailed(s: KV | null = storage()): void {
  s?.setItem(CHEERPX_FAILED_KEY, new Date().toISOString());
}

export function cheerpXFailedHere(s: KV | null = storage()): boolean {
  return !!s?.getItem(CHEERPX_FAILED_KEY);
}

/**
 * The engine that will work here: `auto` means "CheerpX, else v86", but when CheerpX already
 * failed in this browser (no internet, blocked CDN) trying it again only delays the boot.
 */
export function effectiveChoice(choice: EngineChoice, s: KV | null = storage()): EngineChoice {
  return choice === 'auto' && cheerpXFailedHere(s) ? 'v86' : choice;
}
