import type { ShellEvent } from '../../lib/shared/ShellIntegration';

/**
 * busybox ash's line editor drops keys past CONFIG_FEATURE_EDITING_MAX_LEN (1024 by default), so
 * no typed line may be longer than this; longer commands are typed in several lines.
 */
export const MAX_TYPED_LINE_CHARS = 800;
/** The shell variable that collects a long command's pieces. */
const CHUNK_VAR = '__tandem_cmd';

/** Ctrl-E (end of line) then Ctrl-U (kill to start): clears whatever a person half-typed at the prompt. */
export const CLEAR_LINE_KEYS = '\x05\x15';

/**
 * What to type for a command. A plain one-line printable-ASCII command is typed as is, so people
 * watching the terminal read it. Anything else (newlines, tabs — which would trigger completion —,
 * non-ASCII, `!` which bash expands) goes base64-encoded through `eval`, so exactly one line of
 * harmless characters is typed. Commands too long for one line are first collected into a shell
 * variable, a line at a time.
 */
export function linesToType(cmd: string): string[] {
  if (/^[\x20-\x7e]+$/.test(cmd) && !cmd.includes('!') && cmd.trim() !== '' && cmd.length <= MAX_TYPED_LINE_CHARS) return [cmd];
  const b64 = Buffer.from(cmd, 'utf8').toString('base64');
  const single = `eval "$(printf %s '${b64}' | base64 -d)"`;
  if (single.length <= MAX_TYPED_LINE_CHARS) return [single];
  const size = MAX_TYPED_LINE_CHARS - CHUNK_VAR.length * 2 - 8;
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += size) {
    const piece = b64.slice(i, i + size);
    // Braces: base64 letters right after the name would otherwise extend it.
    lines.push(i === 0 ? `${CHUNK_VAR}=${piece}` : `${CHUNK_VAR}=\${${CHUNK_VAR}}${piece}`);
  }
  lines.push(`eval "$(printf %s "$${CHUNK_VAR}" | base64 -d)"`);
  return lines;
}

/** What the queue must do after an event. */
export type RunStep =
  | { kind: 'type' } // the shell is back at a prompt between lines: type the next one
  | { kind: 'finished'; exitCode: number | null }
  | { kind: 'lineFailed'; exitCode: number | null }; // a preparatory line did not succeed

type Esc = 'none' | 'esc' | 'csi' | 'osc';

/**
 * One command's way through the shell, fed with the shell-integration events of the terminal
 * stream. Transport-free: the queue types what `type()` returns and acts on what `feed()` says.
 *
 * Where output starts: there is no OSC 133 C mark (busybox ash has no preexec hook), so the output
 * begins after the line feed that follows the echo of the typed line. The echo is recognised by
 * counting printable characters since the last B mark (a prompt redraw, e.g. after Ctrl-U, prints
 * the prompt again and resets the count); line feeds before the count is reached are the line
 * editor wrapping a long line at the terminal width. Output ends at the next D mark, which
 * carries the exit code.
 */
export class CommandRun {
  private readonly lines: string[];
  private step = 0;
  /** 'prompt': waiting for the shell's prompt before typing the current line; 'over': the last line's D came. */
  private phase: 'prompt' | 'typing' | 'output' | 'over' = 'prompt';
  private typedChars = 0;
  private echoed = 0;
  private esc: Esc = 'none';
  private chunks: string[] = [];
  private bytes = 0;
  truncated = false;

  constructor(
    cmd: string,
    private readonly maxOutputBytes: number,
  ) {
    this.lines = linesToType(cmd);
  }

  get lineCount(): number {
    return this.lines.length;
  }

  /** The keys for the current line; call it when the shell sits at a prompt. */
  type(): string {
    const line = this.lines[this.step];
    this.phase = 'typing';
    this.typedChars = [...line].length;
    this.echoed = 0;
    this.esc = 'none';
    return `${CLEAR_LINE_KEYS}${line}\r`;
  }

  feed(ev: ShellEvent): RunStep | null {
    switch (ev.kind) {
      case 'text':
        if (this.phase === 'typing') this.scanEcho(ev.text);
        else if (this.phase === 'output') this.collect(ev.text);
        return null;
      case 'input':
        if (this.phase === 'typing') {
          this.echoed = 0; // a redraw printed the prompt again; the echo starts over after it
          this.esc = 'none';
        } else if (this.phase === 'prompt') return { kind: 'type' };
        return null;
      case 'output':
        // Shells with a preexec hook (bash's PS0) say exactly where output starts. What the echo
        // scan took as output before it is the line editor's own noise (bash turns bracketed paste
        // off after Enter: ESC[?2004l), so it is dropped.
        if (this.phase === 'typing' || this.phase === 'output') {
          this.phase = 'output';
          this.chunks = [];
          this.bytes = 0;
        }
        return null;
      case 'prompt':
        return null;
      case 'done': {
        // A D while typing belongs to a prompt redraw, not to our command.
        if (this.phase !== 'output') return null;
        const last = this.step === this.lines.length - 1;
        if (last) {
          this.phase = 'over';
          return { kind: 'finished', exitCode: ev.exitCode };
        }
        if (ev.exitCode !== 0) return { kind: 'lineFailed', exitCode: ev.exitCode };
        this.step += 1;
        this.phase = 'prompt';
        return null;
      }
    }
  }

  /** The command's output so far: marks removed, CRLF made LF, at most maxOutputBytes. */
  get output(): string {
    return this.chunks.join('').replace(/\r\n/g, '\n');
  }

  private scanEcho(text: string): void {
    let i = 0;
    for (const ch of text) {
      i += ch.length;
      const c = ch.codePointAt(0)!;
      switch (this.esc) {
        case 'esc':
          this.esc = ch === '[' ? 'csi' : ch === ']' ? 'osc' : 'none';
          continue;
        case 'csi':
          if (c >= 0x40 && c <= 0x7e) this.esc = 'none';
          continue;
        case 'osc':
          if (ch === '\x07') this.esc = 'none';
          else if (ch === '\x1b') this.esc = 'esc';
          continue;
      }
      if (ch === '\x1b') this.esc = 'esc';
      else if (ch === '\n') {
        if (this.echoed >= this.typedChars) {
          this.phase = 'output';
          if (this.step === this.lines.length - 1) this.collect(text.slice(i));
          return;
        }
      } else if (c >= 0x20 && c !== 0x7f) this.echoed += 1;
    }
  }

  private collect(text: string): void {
    // Only the command's own line produces output worth keeping; preparatory lines are assignments.
    if (this.step !== this.lines.length - 1 || !text || this.truncated) return;
    const n = Buffer.byteLength(text, 'utf8');
    if (this.bytes + n <= this.maxOutputBytes) {
      this.chunks.push(text);
      this.bytes += n;
      return;
    }
    let room = this.maxOutputBytes - this.bytes;
    let cut = '';
    for (const ch of text) {
      const b = Buffer.byteLength(ch, 'utf8');
      if (b > room) break;
      cut += ch;
      room -= b;
    }
    this.chunks.push(cut);
    this.bytes = this.maxOutputBytes - room;
    this.truncated = true;
  }
}
