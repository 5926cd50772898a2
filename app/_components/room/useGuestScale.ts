'use client';

import { useEffect, useState } from 'react';

/** Below this scale text is unreadable: scroll instead. */
const MIN_SCALE = 0.5;

/**
 * A guest's terminal keeps the host's size (cols × rows); a smaller window must not shrink the
 * host's VM terminal. So the guest's view scales down to fit its box (CSS transform), and scrolls
 * when even MIN_SCALE is too big or when the person asks for actual size.
 */
export function useGuestScale(wrap: React.RefObject<HTMLElement | null>, inner: React.RefObject<HTMLElement | null>, enabled: boolean) {
  const [fit, setFit] = useState(true);
  const [scale, setScale] = useState(1);

  useEffect(() => {
    const w = wrap.current;
    const el = inner.current;
    if (!w || !el) return;
    if (!enabled || !fit) {
      el.style.transform = '';
      el.style.marginBottom = '';
      el.style.marginRight = '';
      setScale(1);
      return;
    }
    let frame = 0;
    const measure = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const screen = el.querySelector<HTMLElement>('.term:not([hidden]) .xterm-screen');
        if (!screen) return;
        const cs = getComputedStyle(w);
        const availW = w.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
        const availH = w.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
        const natW = screen.offsetWidth;
        const natH = screen.offsetHeight;
        if (!natW || !natH) return;
        let s = Math.min(1, availW / natW, availH / natH);
        if (s < MIN_SCALE) s = Math.max(MIN_SCALE, Math.min(1, availW / natW));
        s = Math.floor(s * 100) / 100;
        el.style.transformOrigin = '0 0';
        el.style.transform = s < 1 ? `scale(${s})` : '';
        // A transform does not change layout size: pull the box in so no phantom scrollbars remain.
        el.style.marginBottom = s < 1 ? `${-(1 - s) * el.offsetHeight}px` : '';
        el.style.marginRight = s < 1 ? `${-(1 - s) * el.offsetWidth}px` : '';
        setScale(s);
      });
    };
    const ro = new ResizeObserver(measure);
    ro.observe(w);
    // The box's layout size follows the host's cols × rows (and the visible tab); a transform does not change it.
    ro.observe(el);
    measure();
    return () => {
      cancelAnimationFrame(frame);
      ro.disconnect();
      el.style.transform = '';
      el.style.marginBottom = '';
      el.style.marginRight = '';
    };
  }, [wrap, inner, enabled, fit]);

  return { fit, setFit, scale };
}
