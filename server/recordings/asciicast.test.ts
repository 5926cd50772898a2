import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TandemError } from '../../lib/shared/errors';
import { parseCast } from './asciicast';

const header = JSON.stringify({ version: 2, width: 80, height: 24 });

describe('parseCast', () => {
  it('turns events into recording events, numbering output frames and cutting long ones', () => {
    const big = 'x'.repeat(70 * 1024);
    const cast = parseCast(Buffer.from([header, JSON.stringify([0.5, 'o', 'hi']), JSON.stringify([1, 'r', '100x30']), JSON.stringify([2, 'o', big])].join('\n') + '\n'));
    expect(cast).toMatchObject({ width: 80, height: 24, title: null });
    expect(cast.events.map((e) => [e.code, 'seq' in e ? e.seq : null])).toEqual([
      ['o', 1],
      ['r', null],
      ['o', 2],
      ['o', 3],
    ]);
  });

  it('answers any input with a result or a named refusal, never another exception (fuzzed)', () => {
    const line = fc.oneof(
      fc.string(),
      fc.json(),
      fc.tuple(fc.double(), fc.constantFrom('o', 'i', 'r', 'm', 'x'), fc.string()).map((t) => JSON.stringify(t)),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(line, { maxLength: 20 }), fc.boolean(), (withHeader, lines, newline) => {
        const text = (withHeader ? [header, ...lines] : lines).join('\n') + (newline ? '\n' : '');
        try {
          const cast = parseCast(Buffer.from(text));
          let last = 0;
          for (const e of cast.events) {
            expect(e.t).toBeGreaterThanOrEqual(last);
            last = e.t;
          }
        } catch (e) {
          expect(e).toBeInstanceOf(TandemError);
          expect(['BAD_RECORDING', 'TOO_LARGE']).toContain((e as TandemError).code);
        }
      }),
      { numRuns: 500 },
    );
  });
});
