import { describe, expect, it } from 'vitest';
import { TermStream, type TermSink } from './TermStream';

function sink() {
  const s = { text: '', resets: 0, size: [0, 0] as [number, number] };
  const impl: TermSink = {
    reset: () => {
      s.text = '';
      s.resets++;
    },
    write: (d) => (s.text += d),
    resize: (c, r) => (s.size = [c, r]),
  };
  return { s, impl };
}

describe('TermStream', () => {
  it('holds live frames until the snapshot, then applies only newer ones in order', () => {
    const { s, impl } = sink();
    const t = new TermStream(impl, () => {});
    t.out({ tab: 'main', seq: 5, data: 'E' });
    t.out({ tab: 'main', seq: 6, data: 'F' });
    t.snapshot({ tab: 'main', seq: 5, cols: 100, rows: 30, data: 'ABCDE' });
    expect(s.text).toBe('ABCDEF');
    expect(s.size).toEqual([100, 30]);
    expect(t.lastSeq).toBe(6);
  });

  it('asks for a snapshot on a gap and recovers', () => {
    const { s, impl } = sink();
    let syncs = 0;
    const t = new TermStream(impl, () => syncs++);
    t.snapshot({ tab: 'main', seq: 1, cols: 80, rows: 24, data: 'a' });
    t.out({ tab: 'main', seq: 3, data: 'c' });
    expect(syncs).toBe(1);
    t.out({ tab: 'main', seq: 4, data: 'd' });
    t.snapshot({ tab: 'main', seq: 3, cols: 80, rows: 24, data: 'abc' });
    expect(s.text).toBe('abcd');
    expect(s.resets).toBe(2);
  });

  it('ignores duplicates', () => {
    const { s, impl } = sink();
    const t = new TermStream(impl, () => {});
    t.snapshot({ tab: 'main', seq: 2, cols: 80, rows: 24, data: 'ab' });
    t.out({ tab: 'main', seq: 2, data: 'b' });
    t.out({ tab: 'main', seq: 3, data: 'c' });
    t.out({ tab: 'main', seq: 3, data: 'c' });
    expect(s.text).toBe('abc');
  });
});
