import type { ReactNode } from 'react';

/**
 * Every page's top bar: the brand (home link), what this page is, then the page's own items;
 * `end` sits at the right edge.
 */
export default function TopBar({ label, children, end }: { label?: ReactNode; children?: ReactNode; end?: ReactNode }) {
  return (
    <header className="topbar">
      <span className="brand">
        <a href="/">Tandem</a>
      </span>
      {label && <span className="badge">{label}</span>}
      {children}
      <span className="spacer" />
      {end}
    </header>
  );
}
