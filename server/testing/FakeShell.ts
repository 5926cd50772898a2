import type { ClientSocket } from './startServer';

/**
 * A stand-in for the guest's busybox ash on a serial line, for tests: it echoes keys like ash's
 * line editor (Ctrl-U redraws the prompt, long lines wrap with CRLF at the terminal width), prints
 * the OSC 133 prompt of /etc/shrc after each command (plus the cursor-position query ash sends),
 * and runs a handful of commands: echo (with $((a*b))), (exit N), sleep N, seq N, VAR=value,
 * eval "$(printf %s … | base64 -d)", and `ignore-int` (a program that ignores Ctrl-C, for 'timeout'
 * without a prompt). Anything else is "not found" (exit 127).
 */
export const ESC = '\x1b';
export const promptText = 'user@tandem:~$ ';
export const prompt = (exit: number) => `${ESC}]133;D;${exit}\x07${ESC}]133;A\x07${promptText}${ESC}]133;B\x07${ESC}[6n`;

interface Result {
  out: string;
  exit: number;
  /** Runs this long before the prompt comes back; Ctrl-C ends it early. */
  ms?: number;
  ignoresInterrupt?: boolean;
}

export class FakeShell {
  private line = '';
  private lastExit = 0;
  private vars = new Map<string, string>();
  private running: { timer: ReturnType<typeof setTimeout>; ignoresInterrupt: boolean } | null = null;
  /** Every line the shell executed, in order. */
  readonly executed: string[] = [];

  constructor(
    private emit: (data: string) => void,
    private cols = 80,
  ) {}

  /** The prompt as it appears after login. */
  start(): void {
    this.emit(prompt(0));
  }

  get busy(): boolean {
    return this.running !== null;
  }

  input(data: string): void {
    let echo = '';
    const flush = () => {
      if (echo) this.emit(echo);
      echo = '';
    };
    for (const ch of data) {
      if (this.running) {
        if (ch === '\x03' && !this.running.ignoresInterrupt) {
          flush();
          const r = this.running;
          clearTimeout(r.timer);
          this.running = null;
          this.lastExit = 130;
          this.emit('^C\r\n');
          this.emit(prompt(130));
        } else if (ch === '\x03') echo += '^C';
        else echo += ch === '\r' ? '\r\n' : ch; // the tty echoes in cooked mode
        continue;
      }
      switch (ch) {
        case '\x05': // Ctrl-E: the cursor is always at the end here
          break;
        case '\x15': // Ctrl-U: kill the line and redraw the prompt, as ash does
          if (this.line) {
            this.line = '';
            echo += `\r${prompt(this.lastExit)}${ESC}[J`;
          }
          break;
        case '\x03':
          flush();
          this.line = '';
          this.lastExit = 130;
          this.emit(`^C\r\n${prompt(130)}`);
          break;
        case '\r':
        case '\n': {
          // goto_new_line: ash prints '\n' unless a wrap left the cursor in column 0 already
          if (this.column() !== 0 || this.line === '') echo += '\r\n';
          flush();
          const line = this.line;
          this.line = '';
          this.run(line);
          break;
        }
        default:
          if (ch < ' ') break;
          this.line += ch;
          echo += ch;
          if (this.column() === 0) echo += '\r\n';
      }
    }
    flush();
  }

  private column(): number {
    return (promptText.length + [...this.line].length) % this.cols;
  }

  private run(line: string): void {
    if (line.trim() === '') return this.emit(prompt(this.lastExit));
    this.executed.push(line);
    const r = this.exec(line);
    const done = () => {
      this.running = null;
      this.lastExit = r.exit;
      // Split the prompt inside a mark: the parser must reassemble it.
      const p = prompt(r.exit);
      this.emit(r.out + p.slice(0, 5));
      this.emit(p.slice(5));
    };
    if (!r.ms) return done();
    if (r.out) this.emit(r.out);
    r.out = '';
    this.running = { timer: setTimeout(done, r.ms), ignoresInterrupt: !!r.ignoresInterrupt };
  }

  private exec(line: string): Result {
    let m: RegExpExecArray | null;
    if ((m = /^eval "\$\(printf %s '([A-Za-z0-9+/=]*)' \| base64 -d\)"$/.exec(line))) return this.script(Buffer.from(m[1], 'base64').toString('utf8'));
    if ((m = /^eval "\$\(printf %s "\$(\w+)" \| base64 -d\)"$/.exec(line)))
      return this.script(Buffer.from(this.vars.get(m[1]) ?? '', 'base64').toString('utf8'));
    if ((m = /^(\w+)=(.*)$/.exec(line))) {
      this.vars.set(m[1], m[2].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => this.vars.get(a ?? b!) ?? ''));
      return { out: '', exit: 0 };
    }
    if ((m = /^echo (.*)$/.exec(line))) {
      const text = m[1].replace(/\$\(\((\d+)\*(\d+)\)\)/g, (_, a: string, b: string) => String(Number(a) * Number(b))).replace(/^'(.*)'$|^"(.*)"$/, '$1$2');
      return { out: `${text}\r\n`, exit: 0 };
    }
    if ((m = /^\(exit (\d+)\)$/.exec(line))) return { out: '', exit: Number(m[1]) };
    if (line === 'true' || line === ':') return { out: '', exit: 0 };
    if ((m = /^sleep (\d+(?:\.\d+)?)$/.exec(line))) return { out: '', exit: 0, ms: Number(m[1]) * 1000 };
    if ((m = /^seq (\d+)$/.exec(line))) {
      let out = '';
      for (let i = 1; i <= Number(m[1]); i++) out += `${i}\r\n`;
      return { out, exit: 0 };
    }
    if (line === 'ignore-int') return { out: 'ignoring SIGINT\r\n', exit: 0, ms: 60_000, ignoresInterrupt: true };
    return { out: `sh: ${line.split(' ')[0]}: not found\r\n`, exit: 127 };
  }

  /** Lines of a decoded script, run one after another; the exit code is the last one's. */
  private script(text: string): Result {
    let out = '';
    let exit = 0;
    for (const l of text.split('\n')) {
      if (l.trim() === '') continue;
      const r = this.exec(l);
      out += r.out;
      exit = r.exit;
    }
    return { out, exit };
  }
}

/**
 * Makes a connected Socket.IO client behave as a room's host whose VM sits at the fake shell's
 * prompt: it reports phase 'ready', prints the first prompt, and answers 'term:in' as ash would.
 */
export function hostFakeShell(socket: ClientSocket, opts: { tab?: string; cols?: number; start?: boolean } = {}): FakeShell {
  const tab = opts.tab ?? 'main';
  let seq = 0;
  const shell = new FakeShell((data) => socket.emit('term:out', { tab, seq: ++seq, data }), opts.cols);
  socket.on('term:in', (m) => {
    if (m.tab === tab) shell.input(m.data);
  });
  socket.emit('host:status', { tab, phase: 'ready', progress: 1, message: '' });
  if (opts.start !== false) shell.start();
  return shell;
}
