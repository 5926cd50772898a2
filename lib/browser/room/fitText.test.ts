import { describe, expect, it } from 'vitest';
import { fitFontPx } from './fitText';
import { MIN_FONT_PX } from './viewPrefs';

/** A screen of 100 × 30 cells whose cells are 0.6 × 1.2 of the font size, as a monospace font's. */
const screenAt = (px: number) => ({ screenW: Math.round(100 * 0.6 * px), screenH: Math.round(30 * 1.2 * px) });

/** Runs the fit as the page does: measure, set, measure again, until it settles. */
function settle(boxW: number, boxH: number, maxPx = 14, start = 14): number[] {
  const seen = [start];
  for (let i = 0; i < 20; i++) {
    const px = seen.at(-1)!;
    const next = fitFontPx({ fontPx: px, ...screenAt(px), boxW, boxH, maxPx });
    if (next === px) return seen;
    seen.push(next);
  }
  throw new Error(`no fixed point: ${seen.join(' ')}`);
}

describe('fitFontPx', () => {
  it('shrinks to fit both width and height, and never crops the bottom', () => {
    const px = settle(600, 800).at(-1)!; // width-bound: 100 cols in 600 px
    expect(screenAt(px).screenW).toBeLessThanOrEqual(600);
    const py = settle(2000, 400).at(-1)!; // height-bound: 30 rows in 400 px
    expect(screenAt(py).screenH).toBeLessThanOrEqual(400);
  });

  it('never grows past the viewer’s own size, and grows back when the window does', () => {
    expect(settle(5000, 5000).at(-1)).toBe(14);
    const small = settle(600, 800).at(-1)!;
    expect(settle(900, 800, 14, small).at(-1)).toBeGreaterThan(small);
  });

  it('stops at the readable minimum (the box then scrolls)', () => {
    expect(settle(300, 200).at(-1)).toBe(MIN_FONT_PX);
  });

  it('settles without oscillating for every box size', () => {
    for (let w = 200; w <= 1600; w += 37) for (let h = 150; h <= 900; h += 53) expect(() => settle(w, h)).not.toThrow();
  });

  it('keeps the size when nothing is measured yet (a hidden tab)', () => {
    expect(fitFontPx({ fontPx: 12, screenW: 0, screenH: 0, boxW: 500, boxH: 500, maxPx: 14 })).toBe(12);
  });
});
