'use client';

import { useEffect, useRef } from 'react';
import type { Doc, YTextEvent } from 'yjs';

/** Notes are for a class's commands and links, not files: the server caps the whole document too. */
export const MAX_NOTES_CHARS = 100_000;

/**
 * The room's shared notes: Y.Text `notes` bound to a plain textarea. Local edits become the
 * smallest delete+insert that turns the old text into the new; remote edits keep my caret where
 * it was relative to the text around it. Viewers get a read-only view (the server drops their
 * writes anyway).
 */
export default function NotesPane({ doc, readOnly, onEdit }: { doc: Doc | null; readOnly: boolean; onEdit?: () => void }) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const onEditRef = useRef(onEdit);
  onEditRef.current = onEdit;

  useEffect(() => {
    const ta = ref.current;
    if (!doc || !ta) return;
    const text = doc.getText('notes');
    ta.value = text.toString();
    const onRemote = (ev: YTextEvent) => {
      if (ev.transaction.local) return;
      let s = ta.selectionStart;
      let e = ta.selectionEnd;
      let pos = 0;
      for (const op of ev.delta) {
        if (op.retain) pos += op.retain;
        else if (typeof op.insert === 'string') {
          const n = op.insert.length;
          if (pos < s) s += n;
          if (pos < e) e += n;
          pos += n;
        } else if (op.delete) {
          const n = op.delete;
          if (pos < s) s -= Math.min(n, s - pos);
          if (pos < e) e -= Math.min(n, e - pos);
        }
      }
      ta.value = text.toString();
      if (document.activeElement === ta) ta.setSelectionRange(s, e);
    };
    text.observe(onRemote);
    const onInput = () => {
      const before = text.toString();
      const after = ta.value.slice(0, MAX_NOTES_CHARS);
      let p = 0;
      while (p < before.length && p < after.length && before[p] === after[p]) p++;
      let q = 0;
      while (q < before.length - p && q < after.length - p && before[before.length - 1 - q] === after[after.length - 1 - q]) q++;
      doc.transact(() => {
        if (before.length - p - q > 0) text.delete(p, before.length - p - q);
        if (after.length - p - q > 0) text.insert(p, after.slice(p, after.length - q));
      });
      onEditRef.current?.();
    };
    ta.addEventListener('input', onInput);
    return () => {
      text.unobserve(onRemote);
      ta.removeEventListener('input', onInput);
    };
  }, [doc]);

  return (
    <section className="side-section notes" aria-label="Notes">
      <h3>
        Notes {readOnly && <span className="muted small-text">(read only)</span>}
      </h3>
      <textarea
        ref={ref}
        className="notes-text"
        aria-label="Shared notes"
        placeholder={doc ? (readOnly ? 'Nothing here yet.' : 'Shared with everyone in the room…') : 'Connecting…'}
        readOnly={readOnly || !doc}
        maxLength={MAX_NOTES_CHARS}
        spellCheck={false}
      />
    </section>
  );
}
