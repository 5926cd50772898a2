'use client';

import { useEffect, useRef } from 'react';
import type { Doc, YTextEvent } from 'yjs';
import { diffSplice, mapOffset, type TextDelta } from '../../../lib/browser/client/textEdit';

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
      const delta = ev.delta as TextDelta;
      const s = mapOffset(ta.selectionStart, delta);
      const e = mapOffset(ta.selectionEnd, delta);
      ta.value = text.toString();
      if (document.activeElement === ta) ta.setSelectionRange(s, e);
    };
    text.observe(onRemote);
    const onInput = () => {
      const d = diffSplice(text.toString(), ta.value.slice(0, MAX_NOTES_CHARS));
      if (!d) return;
      doc.transact(() => {
        if (d.remove) text.delete(d.index, d.remove);
        if (d.insert) text.insert(d.index, d.insert);
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
