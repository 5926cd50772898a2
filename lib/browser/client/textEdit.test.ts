import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { diffSplice, mapOffset, type TextDelta } from './textEdit';

function apply(s: string, d: ReturnType<typeof diffSplice>): string {
  return d ? s.slice(0, d.index) + d.insert + s.slice(d.index + d.remove) : s;
}

describe('diffSplice', () => {
  it('finds the one splice for typing, deleting and replacing', () => {
    expect(diffSplice('abc', 'abc')).toBeNull();
    expect(diffSplice('abc', 'abXc')).toEqual({ index: 2, remove: 0, insert: 'X' });
    expect(diffSplice('abc', 'ac')).toEqual({ index: 1, remove: 1, insert: '' });
    expect(diffSplice('hello world', 'hello there')).toEqual({ index: 6, remove: 5, insert: 'there' });
    expect(diffSplice('', 'new')).toEqual({ index: 0, remove: 0, insert: 'new' });
    expect(diffSplice('aaa', 'aaaa')).toEqual({ index: 3, remove: 0, insert: 'a' });
  });
  it('always rebuilds the new text', () => {
    const cases: [string, string][] = [['abcabc', 'abc'], ['x', 'yxy'], ['ab\ncd', 'ab\n\ncd'], ['😀a', '😀b']];
    for (const [a, b] of cases) expect(apply(a, diffSplice(a, b))).toBe(b);
  });
});

describe('mapOffset', () => {
  /** The delta a real Y.Text observer sees when a remote peer runs `edit`. */
  function remoteDelta(initial: string, edit: (t: Y.Text) => void): TextDelta {
    const a = new Y.Doc();
    const b = new Y.Doc();
    a.getText('t').insert(0, initial);
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    let delta: TextDelta = [];
    b.getText('t').observe((e) => (delta = e.delta as TextDelta));
    const before = Y.encodeStateVector(b);
    edit(a.getText('t'));
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a, before));
    return delta;
  }

  it('moves a caret after a remote insert before it, and not for one after it', () => {
    const d = remoteDelta('hello world', (t) => t.insert(0, '>> '));
    expect(mapOffset(5, d)).toBe(8);
    const later = remoteDelta('hello world', (t) => t.insert(11, '!'));
    expect(mapOffset(5, later)).toBe(5);
  });
  it('pulls a caret back over a remote delete before it, and onto its start when inside', () => {
    const d = remoteDelta('hello world', (t) => t.delete(0, 6));
    expect(mapOffset(11, d)).toBe(5);
    expect(mapOffset(3, d)).toBe(0);
  });
});
