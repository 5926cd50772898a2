'use client';

import { useState } from 'react';

/** The room's link, selectable, with a copy button that says when it copied. */
export default function ShareLink({ url, size = 34 }: { url: string; size?: number }) {
  const [copied, setCopied] = useState(false);
  return (
    <span className="row share">
      <input readOnly value={url} aria-label="Share link" size={size} onFocus={(e) => e.currentTarget.select()} />
      <button
        className="secondary"
        onClick={() => {
          void navigator.clipboard?.writeText(url).then(() => setCopied(true));
          setTimeout(() => setCopied(false), 1500);
        }}
      >
        {copied ? 'Copied' : 'Copy link'}
      </button>
    </span>
  );
}
