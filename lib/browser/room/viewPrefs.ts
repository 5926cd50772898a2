import { Store } from './Store';

/** Glyphs below this size are unreadable: a guest's view scrolls sideways instead of shrinking. */
export const MIN_FONT_PX = 9;
export const MAX_FONT_PX = 28;
export const DEFAULT_FONT_PX = 14;
const PREFS_KEY = 'tandem:view';

/** How this viewer wants to see the terminal; remembered in this browser, never sent anywhere. */
export interface ViewPrefs {
  /** The text size I read best (the guest's view shrinks below it only to fit the window). */
  fontPx: number;
  /** Guest: shrink the host's screen to fit my window (never below MIN_FONT_PX). */
  fit: boolean;
  /** Guest: keep the newest line and the cursor in view ("follow host"), or leave scrolling to me. */
  follow: boolean;
  /** xterm's screen-reader mode: output announced through a live region. */
  screenReader: boolean;
}

export const DEFAULT_PREFS: ViewPrefs = { fontPx: DEFAULT_FONT_PX, fit: true, follow: true, screenReader: false };

type KV = Pick<Storage, 'getItem' | 'setItem'>;

export const clampFontPx = (px: number) => Math.min(MAX_FONT_PX, Math.max(MIN_FONT_PX, Math.round(px)));

/** Reads saved prefs, keeping defaults for anything missing or malformed (an older page's or a hand edit). */
export function parsePrefs(raw: string | null): ViewPrefs {
  let v: Record<string, unknown> = {};
  try {
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (parsed && typeof parsed === 'object') v = parsed as Record<string, unknown>;
  } catch {
    // unreadable: defaults
  }
  const bool = (k: keyof ViewPrefs) => (typeof v[k] === 'boolean' ? (v[k] as boolean) : (DEFAULT_PREFS[k] as boolean));
  return {
    fontPx: typeof v.fontPx === 'number' && Number.isFinite(v.fontPx) ? clampFontPx(v.fontPx) : DEFAULT_FONT_PX,
    fit: bool('fit'),
    follow: bool('follow'),
    screenReader: bool('screenReader'),
  };
}

/** The viewer's prefs as a store (for useSyncExternalStore), saved on each change. */
export class ViewPrefsStore extends Store<ViewPrefs> {
  constructor(private storage: KV | null) {
    super(parsePrefs(safe(() => storage?.getItem(PREFS_KEY) ?? null)));
  }

  update(patch: Partial<ViewPrefs>): void {
    this.set({ ...patch, ...(patch.fontPx !== undefined ? { fontPx: clampFontPx(patch.fontPx) } : {}) });
    safe(() => this.storage?.setItem(PREFS_KEY, JSON.stringify(this.getSnapshot())));
  }
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null; // storage blocked or full: the prefs hold for this page only
  }
}
