import { describe, expect, it } from 'vitest';
import { ShellIntegration, type ShellEvent } from './ShellIntegration';

const prompt = (code: number) => `\x1b]133;D;${code}\x07\x1b]133;A\x07user@tandem:~$ \x1b]133;B\x07`;
const text = (evs: ShellEvent[]) => evs.filter((e) => e.kind === 'text').map((e) => (e as { text: string }).text).join('');
const marks = (evs: ShellEvent[]) => evs.filter((e) => e.kind !== 'text');

describe('ShellIntegration', () => {
  it('finds prompt, input and exit-code marks and keeps the text', () => {
    const p = new ShellIntegration();
    const evs = p.push(`echo $((6*7))\r\n42\r\n${prompt(0)}`);
    expect(text(evs)).toBe('echo $((6*7))\r\n42\r\nuser@tandem:~$ ');
    expect(marks(evs)).toEqual([{ kind: 'done', exitCode: 0 }, { kind: 'prompt' }, { kind: 'input' }]);
  });

  it('reassembles a mark split across chunks, byte by byte', () => {
    const p = new ShellIntegration();
    const all: ShellEvent[] = [];
    for (const ch of `out\r\n${prompt(3)}`) all.push(...p.push(ch));
    expect(text(all)).toBe('out\r\nuser@tandem:~$ ');
    expect(marks(all)[0]).toEqual({ kind: 'done', exitCode: 3 });
  });

  it('accepts ST terminators and OSC 633', () => {
    const p = new ShellIntegration();
    expect(marks(p.push('\x1b]633;C\x1b\\x\x1b]633;D;127\x1b\\'))).toEqual([{ kind: 'output' }, { kind: 'done', exitCode: 127 }]);
  });

  it('leaves other OSCs (titles) in the text', () => {
    const p = new ShellIntegration();
    const evs = p.push('\x1b]0;title\x07hi');
    expect(text(evs)).toBe('\x1b]0;title\x07hi');
    expect(marks(evs)).toEqual([]);
  });

  it('a D without a number has a null exit code; garbage never throws', () => {
    const p = new ShellIntegration();
    expect(marks(p.push('\x1b]133;D\x07'))).toEqual([{ kind: 'done', exitCode: null }]);
    expect(marks(p.push('\x1b]133;D;abc\x07'))).toEqual([{ kind: 'done', exitCode: null }]);
    expect(() => p.push('\x1b]'.repeat(1000))).not.toThrow();
  });

  it('does not hold back an unterminated OSC forever', () => {
    const p = new ShellIntegration();
    const long = `\x1b]133;${'x'.repeat(1000)}`;
    expect(text(p.push(long))).toBe(long);
  });
});
