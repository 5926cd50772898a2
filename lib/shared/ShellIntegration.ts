/**
 * Parses OSC 133 / OSC 633 shell-integration marks out of a terminal byte stream.
 *   A  prompt start      B  prompt end, input starts      C  command output starts
 *   D;<exit>  command finished with exit code
 * Marks may be split across chunks; the parser keeps at most MAX_PENDING_OSC_CHARS of a partial
 * sequence. Text passes through untouched (terminals ignore these OSCs); the events tell where a
 * command's output begins and ends and how it exited, without any text markers.
 */
export type ShellMark =
  | { kind: 'prompt' } // A
  | { kind: 'input' } // B
  | { kind: 'output' } // C
  | { kind: 'done'; exitCode: number | null }; // D

export type ShellEvent = ShellMark | { kind: 'text'; text: string };

const ESC = '\x1b';
const MAX_PENDING_OSC_CHARS = 256;

export class ShellIntegration {
  private pending = '';

  /** Splits a chunk into plain text and marks, in stream order. Text still contains everything but the marks. */
  push(chunk: string): ShellEvent[] {
    const s = this.pending + chunk;
    this.pending = '';
    const out: ShellEvent[] = [];
    let textStart = 0;
    let i = 0;
    while (i < s.length) {
      const at = s.indexOf(`${ESC}]`, i);
      if (at < 0) break;
      const end = findOscEnd(s, at + 2);
      if (end === null) {
        // Unterminated: keep it for the next chunk unless it is absurdly long.
        if (s.length - at <= MAX_PENDING_OSC_CHARS) {
          if (at > textStart) out.push({ kind: 'text', text: s.slice(textStart, at) });
          this.pending = s.slice(at);
          return out;
        }
        break;
      }
      const body = s.slice(at + 2, end.bodyEnd);
      const mark = parseMark(body);
      if (mark) {
        if (at > textStart) out.push({ kind: 'text', text: s.slice(textStart, at) });
        out.push(mark);
        textStart = end.next;
      }
      i = end.next;
    }
    // A lone trailing ESC might start a mark in the next chunk.
    if (s.endsWith(ESC) && s.length - 1 >= textStart) {
      if (s.length - 1 > textStart) out.push({ kind: 'text', text: s.slice(textStart, s.length - 1) });
      this.pending = ESC;
      return out;
    }
    if (textStart < s.length) out.push({ kind: 'text', text: s.slice(textStart) });
    return out;
  }
}

function findOscEnd(s: string, from: number): { bodyEnd: number; next: number } | null {
  for (let j = from; j < s.length; j++) {
    const c = s[j];
    if (c === '\x07') return { bodyEnd: j, next: j + 1 };
    if (c === ESC) {
      if (j + 1 >= s.length) return null;
      if (s[j + 1] === '\\') return { bodyEnd: j, next: j + 2 };
      return { bodyEnd: j, next: j }; // malformed: another escape starts; end the OSC here
    }
  }
  return null;
}

function parseMark(body: string): ShellMark | null {
  const m = /^(?:133|633);([ABCD])(?:;(.*))?$/s.exec(body);
  if (!m) return null;
  switch (m[1]) {
    case 'A':
      return { kind: 'prompt' };
    case 'B':
      return { kind: 'input' };
    case 'C':
      return { kind: 'output' };
    default: {
      const code = m[2] !== undefined && /^-?\d{1,5}$/.test(m[2]) ? Number(m[2]) : null;
      return { kind: 'done', exitCode: code };
    }
  }
}
