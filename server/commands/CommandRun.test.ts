import { describe, expect, it } from 'vitest';
import { ShellIntegration } from '../../lib/shared/ShellIntegration';
import { prompt } from '../testing/FakeShell';
import { CommandRun, MAX_TYPED_LINE_CHARS, linesToType } from './CommandRun';

/** Feeds terminal chunks through the mark parser into the run; returns the last step reported. */
function drive(run: CommandRun, chunks: string[]) {
  const parser = new ShellIntegration();
  let last = null;
  for (const c of chunks) for (const ev of parser.push(c)) last = run.feed(ev) ?? last;
  return last;
}

describe('linesToType', () => {
  it('types plain commands as they are and everything else as one base64 line', () => {
    expect(linesToType('ls -la /tmp')).toEqual(['ls -la /tmp']);
    for (const cmd of ['echo a\necho b', 'printf "\\t"\t', 'echo ü', 'echo hi!']) {
      const [line, ...rest] = linesToType(cmd);
      expect(rest).toEqual([]);
      const b64 = /^eval "\$\(printf %s '([A-Za-z0-9+/=]+)' \| base64 -d\)"$/.exec(line)![1];
      expect(Buffer.from(b64, 'base64').toString('utf8')).toBe(cmd);
    }
  });

  it('splits a long command into lines the line editor accepts, joined in a shell variable', () => {
    const cmd = 'x'.repeat(5000);
    const lines = linesToType(cmd);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(MAX_TYPED_LINE_CHARS);
    expect(lines[0]).toMatch(/^__tandem_cmd=[A-Za-z0-9+/=]+$/);
    expect(lines[1]).toMatch(/^__tandem_cmd=\$\{__tandem_cmd\}[A-Za-z0-9+/=]+$/);
    const joined = lines.slice(0, -1).map((l) => l.replace(/^__tandem_cmd=(\$\{__tandem_cmd\})?/, '')).join('');
    expect(Buffer.from(joined, 'base64').toString()).toBe(cmd);
    expect(lines.at(-1)).toBe('eval "$(printf %s "$__tandem_cmd" | base64 -d)"');
  });
});

describe('CommandRun', () => {
  it('skips the echo even with escape sequences split across chunks, and strips marks from the output', () => {
    const run = new CommandRun('echo hi', 1024);
    expect(run.type()).toBe('\x05\x15echo hi\r');
    // The cursor query and a colour sequence arrive a byte at a time; CR and LF in separate chunks.
    const stream = [...'\x1b[6nech\x1b[3', '1mo hi', '\r', '\nhi\r\n\x1b]0;title\x07', prompt(0)];
    expect(drive(run, stream)).toEqual({ kind: 'finished', exitCode: 0 });
    expect(run.output).toBe('hi\n\x1b]0;title\x07');
  });

  it('starts the output at a C mark when the shell sends one', () => {
    const run = new CommandRun('make', 1024);
    run.type();
    expect(drive(run, ['make\r\n\x1b]133;C\x07building\r\n', prompt(2)])).toEqual({ kind: 'finished', exitCode: 2 });
    expect(run.output).toBe('building\n');
  });

  it('ignores the D of a prompt redrawn while typing', () => {
    const run = new CommandRun('true', 1024);
    run.type();
    expect(drive(run, [`\r${prompt(5)}\x1b[J`, 'true\r\n', prompt(0)])).toEqual({ kind: 'finished', exitCode: 0 });
    expect(run.output).toBe('');
  });

  it('asks for the next line at each prompt of a long command and fails on a refused line', () => {
    const run = new CommandRun('y'.repeat(2000), 1024);
    expect(run.lineCount).toBeGreaterThan(2);
    const first = run.type().slice(2, -1);
    expect(drive(run, [`${first}\r\n`, prompt(0)])).toEqual({ kind: 'type' });
    const second = run.type().slice(2, -1);
    expect(drive(run, [`${second}\r\n`, 'sh: syntax error\r\n', prompt(2)])).toEqual({ kind: 'lineFailed', exitCode: 2 });
  });

  it('cuts output at the byte cap on a character boundary', () => {
    const run = new CommandRun('cat', 10);
    run.type();
    drive(run, ['cat\r\n', 'ääääääää', prompt(0)]);
    expect(run.output).toBe('äääää');
    expect(Buffer.byteLength(run.output)).toBe(10);
    expect(run.truncated).toBe(true);
  });
});

describe('CommandRun with bash (PS0 sends C)', () => {
  it('starts the output at C, dropping readline noise between the echo and C', () => {
    const run = new CommandRun('echo hi', 1024);
    const parser = new ShellIntegration();
    run.type();
    const stream = 'echo hi\r\n\x1b[?2004l\r\x1b]133;C\x07hi\r\n\x1b]133;D;0\x07\x1b]133;A\x07\x1b[?2004huser@tandem:~$ \x1b]133;B\x07';
    let finished: unknown = null;
    for (const ev of parser.push(stream)) finished = run.feed(ev) ?? finished;
    expect(finished).toEqual({ kind: 'finished', exitCode: 0 });
    expect(run.output).toBe('hi\n');
  });
});
