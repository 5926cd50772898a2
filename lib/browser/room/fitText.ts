import { MIN_FONT_PX } from './viewPrefs';

export interface FitInput {
  /** The font size now shown, and the screen's size at it (px). */
  fontPx: number;
  screenW: number;
  screenH: number;
  /** The box the screen should fit into (px). */
  boxW: number;
  boxH: number;
  /** The viewer's own text size: never grow past it. */
  maxPx: number;
  minPx?: number;
}

/** How much larger the screen must be predicted to fit before growing (xterm rounds cell sizes). */
const GROW_MARGIN = 0.97;

/**
 * The font size at which a guest sees the host's whole screen (cols × rows fixed by the host) in
 * its box: the screen scales with the font, so one measurement predicts the size. It shrinks at
 * once when the screen overflows and grows only with a margin, so rounding cannot make it
 * oscillate; below `minPx` it stays at `minPx` and the box scrolls (the cursor is kept in view).
 */
export function fitFontPx(i: FitInput): number {
  const min = i.minPx ?? MIN_FONT_PX;
  if (!i.screenW || !i.screenH || i.boxW <= 0 || i.boxH <= 0) return Math.max(min, Math.min(i.fontPx, i.maxPx));
  const ratio = Math.min(i.boxW / i.screenW, i.boxH / i.screenH);
  const cap = Math.max(min, i.maxPx);
  if (ratio < 1) return Math.max(min, Math.min(cap, Math.min(i.fontPx - 1, Math.floor(i.fontPx * ratio))));
  const grown = Math.floor(i.fontPx * ratio * GROW_MARGIN);
  return Math.max(min, Math.min(cap, Math.max(i.fontPx, grown)));
}
