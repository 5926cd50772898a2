'use client';

import { useEffect, useState } from 'react';
import type { RoomSession } from '../../../lib/browser/room/RoomSession';
import { fitFontPx } from '../../../lib/browser/room/fitText';
import type { ViewPrefs } from '../../../lib/browser/room/viewPrefs';
import type { Seat } from '../../../lib/shared/protocol';

/**
 * Sizes the terminal for this viewer so the newest line is always in view. The host's terminal
 * takes its box (cols × rows follow the box at the viewer's text size). A guest's keeps the
 * host's cols × rows, so its text shrinks until the whole screen fits the box (width and height),
 * never below a readable size: then the box scrolls and, when following, keeps the cursor in view.
 * Returns the guest's text size now shown.
 */
export function useTermFit(session: RoomSession | null, wrap: React.RefObject<HTMLElement | null>, inner: React.RefObject<HTMLElement | null>, seat: Seat | undefined, prefs: ViewPrefs): number {
  const [shownPx, setShownPx] = useState(prefs.fontPx);
  const guest = seat === 'guest';

  useEffect(() => {
    if (!session) return;
    session.configureViews({ screenReader: prefs.screenReader, follow: guest && prefs.follow });
  }, [session, guest, prefs.screenReader, prefs.follow]);

  useEffect(() => {
    const w = wrap.current;
    const el = inner.current;
    if (!session || !w || !el) return;
    let px = prefs.fontPx;
    const apply = (next: number) => {
      px = next;
      setShownPx(next);
      session.configureViews({ fontPx: next });
    };
    apply(prefs.fontPx);
    if (!guest) {
      // The host's terminal follows its box (the drawer, the window, a phone turned sideways).
      const ro = new ResizeObserver(() => session.fitActive());
      ro.observe(w);
      return () => ro.disconnect();
    }
    if (!prefs.fit) return;
    let frame = 0;
    const measure = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const screen = el.querySelector<HTMLElement>('.term:not([hidden]) .xterm-screen');
        if (!screen) return;
        const cs = getComputedStyle(w);
        const next = fitFontPx({
          fontPx: px,
          screenW: screen.offsetWidth,
          screenH: screen.offsetHeight,
          boxW: w.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight),
          boxH: w.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom),
          maxPx: prefs.fontPx,
        });
        if (next !== px) apply(next);
      });
    };
    const ro = new ResizeObserver(measure);
    ro.observe(w);
    // The screen's size follows the host's cols × rows, the visible tab and the text size.
    ro.observe(el);
    measure();
    return () => {
      cancelAnimationFrame(frame);
      ro.disconnect();
    };
  }, [session, wrap, inner, guest, prefs.fit, prefs.fontPx]);

  return shownPx;
}
