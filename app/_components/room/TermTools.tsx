'use client';

import { MAX_FONT_PX, MIN_FONT_PX, type ViewPrefs } from '../../../lib/browser/room/viewPrefs';

/**
 * The strip above the terminal: this viewer's text size and, for guests, "Fit to window" and
 * "Follow host" (off: free scroll). Remembered in this browser.
 */
export default function TermTools({
  guest,
  canType,
  prefs,
  setPrefs,
  shownPx,
}: {
  guest: boolean;
  canType: boolean;
  prefs: ViewPrefs;
  setPrefs(p: Partial<ViewPrefs>): void;
  /** The size now shown (a guest's fit may shrink it). */
  shownPx: number;
}) {
  const pct = Math.round((shownPx / prefs.fontPx) * 100);
  return (
    <div className="term-tools" role="toolbar" aria-label="Terminal view">
      {guest && !canType && <span className="readonly-note">Read only: your keystrokes are not sent to the terminal. Select text and press Ctrl+C to copy.</span>}
      <span className="spacer" />
      <span className="row tight" role="group" aria-label="Text size">
        <button className="secondary small" aria-label="Smaller text" disabled={prefs.fontPx <= MIN_FONT_PX} onClick={() => setPrefs({ fontPx: prefs.fontPx - 1 })}>
          A−
        </button>
        <span className="muted" aria-live="polite" title="Text size">
          {prefs.fontPx}px
        </span>
        <button className="secondary small" aria-label="Larger text" disabled={prefs.fontPx >= MAX_FONT_PX} onClick={() => setPrefs({ fontPx: prefs.fontPx + 1 })}>
          A+
        </button>
      </span>
      {guest && (
        <>
          <label className="check" title="Shrink the host’s screen to fit this window (not below a readable size)">
            <input type="checkbox" checked={prefs.fit} onChange={(e) => setPrefs({ fit: e.target.checked })} /> Fit to window
            {prefs.fit && pct < 100 && <span className="muted"> ({pct}%)</span>}
          </label>
          <label className="check" title="Keep the newest line and the cursor in view; off: free scroll">
            <input type="checkbox" checked={prefs.follow} onChange={(e) => setPrefs({ follow: e.target.checked })} /> Follow host
          </label>
        </>
      )}
    </div>
  );
}
