'use client';

import { useEffect, useId, useLayoutEffect, useRef, useState, type ReactNode } from 'react';

/**
 * The top bar's one menu for everything that is not essential: a button that opens a panel of
 * ordinary controls (Tab moves through them; Escape or a click elsewhere closes it).
 */
export default function RoomMenu({ children, label = 'Menu' }: { children: ReactNode; label?: string }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  // The panel ends inside the window whatever the top bar's height (it wraps on narrow windows):
  // past that its own scrollbar takes over, so every entry stays reachable.
  useLayoutEffect(() => {
    if (!open) return;
    const fit = () => {
      const p = panel.current;
      if (p) p.style.maxHeight = `${Math.max(120, window.innerHeight - p.getBoundingClientRect().top - 8)}px`;
    };
    fit();
    window.addEventListener('resize', fit);
    return () => window.removeEventListener('resize', fit);
  }, [open]);
  useEffect(() => {
    if (!open) return;
    const away = (e: PointerEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [open]);
  return (
    <div
      className="menu"
      ref={root}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          setOpen(false);
          button.current?.focus();
        }
      }}
    >
      <button ref={button} className="secondary" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
        {label} <span aria-hidden="true">▾</span>
      </button>
      <div id={id} ref={panel} className="menu-panel" hidden={!open} role="group" aria-label={label}>
        {children}
      </div>
    </div>
  );
}

/** A titled group of the menu. */
export function MenuSection({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="menu-section" aria-label={title}>
      <h3>{title}</h3>
      {children}
    </section>
  );
}
