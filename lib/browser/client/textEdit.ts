/**
 * Plain-text editing helpers for binding a textarea to a shared Y.Text: the one splice that turns
 * the old text into the new (a textarea's input event says only what the text is now), and where
 * a caret goes when someone else's edit lands before it.
 */

export interface Splice {
  index: number;
  remove: number;
  insert: string;
}

/** The smallest single splice from `before` to `after` (common prefix and suffix kept). */
export function diffSplice(before: string, after: string): Splice | null {
  if (before === after) return null;
  let p = 0;
  while (p < before.length && p < after.length && before[p] === after[p]) p++;
  let q = 0;
  while (q < before.length - p && q < after.length - p && before[before.length - 1 - q] === after[after.length - 1 - q]) q++;
  return { index: p, remove: before.length - p - q, insert: after.slice(p, after.length - q) };
}

/** A Yjs text delta (retain / insert / delete ops). */
export type TextDelta = { retain?: number; insert?: unknown; delete?: number }[];

/** Maps a caret offset through a remote delta: text inserted or deleted before it moves it. */
export function mapOffset(offset: number, delta: TextDelta): number {
  let pos = 0;
  let out = offset;
  for (const op of delta) {
    if (pos >= offset) break;
    if (op.retain) pos += op.retain;
    else if (typeof op.insert === 'string') {
      out += op.insert.length;
      pos += op.insert.length;
      // `pos` counts the new text, `offset` the old: keep them comparable.
      offset += op.insert.length;
    } else if (op.delete) {
      const n = Math.min(op.delete, offset - pos);
      out -= n;
      offset -= n;
    }
  }
  return out;
}
