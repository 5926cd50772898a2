import headless from '@xterm/headless';
import serialize from '@xterm/addon-serialize';

// Both packages ship CommonJS bundles; take the classes off the default export so this works
// under tsx, vitest and Node's ESM loader alike.
const { Terminal } = headless as unknown as typeof import('@xterm/headless');
const { SerializeAddon } = serialize as unknown as typeof import('@xterm/addon-serialize');

/** Memory the mirror's scrollback may use; xterm keeps ~12 bytes per cell. */
export const MAX_SCROLLBACK_BYTES = 2 * 1024 * 1024;
export const MIRROR_BYTES_PER_CELL = 12;
const BYTES_PER_CELL = MIRROR_BYTES_PER_CELL;
/** Lines of history a late joiner receives; bounds snapshot size and time whatever the history. */
export const SNAPSHOT_SCROLLBACK_LINES = 500;

/**
 * A headless copy of one terminal's screen, fed the same bytes as the host's xterm, so a late
 * guest gets the current screen at once instead of the host replaying history.
 */
export class TerminalMirror {
  private term: InstanceType<typeof Terminal>;
  private serializer: InstanceType<typeof SerializeAddon>;
  /** Relay seq of the last chunk the terminal has fully parsed. */
  private parsedSeq = 0;
  private cached: { seq: number; data: string } | null = null;
  private disposed = false;
  /** Bytes this mirror may use, screen and history together (its room shares one budget among its tabs). */
  private budgetBytes = MAX_SCROLLBACK_BYTES;

  constructor(
    public cols = 80,
    public rows = 24,
  ) {
    this.term = new Terminal({ cols, rows, scrollback: scrollbackLines(cols, rows, this.budgetBytes), allowProposedApi: true });
    this.serializer = new SerializeAddon();
    this.term.loadAddon(this.serializer);
  }

  write(data: string, seq: number): void {
    this.term.write(data, () => {
      this.parsedSeq = seq;
    });
  }

  resize(cols: number, rows: number): void {
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    this.term.resize(cols, rows);
    this.term.options.scrollback = scrollbackLines(cols, rows, this.budgetBytes);
    this.cached = null;
  }

  /** Gives the mirror a new memory budget; history beyond it is dropped (oldest lines first). */
  setBudget(bytes: number): void {
    this.budgetBytes = bytes;
    const lines = scrollbackLines(this.cols, this.rows, bytes);
    if (lines !== this.term.options.scrollback) this.term.options.scrollback = lines;
  }

  /** What the mirror may hold at most, by xterm's cells: screen plus the history it keeps. */
  get maxBytes(): number {
    return (this.term.options.scrollback! + this.rows) * this.cols * BYTES_PER_CELL;
  }

  /**
   * Serialized screen + recent history, once every write queued so far has been parsed.
   * `scrollbackLines` other than the default (recordings' keyframes keep less) is not cached.
   */
  snapshot(scrollbackLines = SNAPSHOT_SCROLLBACK_LINES): Promise<{ seq: number; data: string; cols: number; rows: number }> {
    return new Promise((resolve) => {
      if (this.disposed) return resolve({ seq: this.parsedSeq, data: '', cols: this.cols, rows: this.rows });
      this.term.write('', () => {
        if (this.disposed) return resolve({ seq: this.parsedSeq, data: '', cols: this.cols, rows: this.rows });
        if (scrollbackLines !== SNAPSHOT_SCROLLBACK_LINES)
          return resolve({ seq: this.parsedSeq, data: this.serializer.serialize({ scrollback: scrollbackLines }), cols: this.cols, rows: this.rows });
        if (!this.cached || this.cached.seq !== this.parsedSeq) {
          this.cached = { seq: this.parsedSeq, data: this.serializer.serialize({ scrollback: SNAPSHOT_SCROLLBACK_LINES }) };
        }
        resolve({ seq: this.cached.seq, data: this.cached.data, cols: this.cols, rows: this.rows });
      });
    });
  }

  /** The visible screen as plain text, one line per row (tests compare screens with this). */
  screenText(): Promise<string> {
    return new Promise((resolve) => {
      this.term.write('', () => {
        const buf = this.term.buffer.active;
        const lines: string[] = [];
        for (let y = 0; y < this.rows; y++) lines.push(buf.getLine(buf.viewportY + y)?.translateToString(true) ?? '');
        resolve(lines.join('\n'));
      });
    });
  }

  dispose(): void {
    this.disposed = true;
    this.term.dispose();
  }
}

/** History lines that fit a budget: at most MAX_SCROLLBACK_BYTES of history, what the budget leaves after the screen. */
function scrollbackLines(cols: number, rows: number, budgetBytes: number): number {
  const bytesPerLine = cols * BYTES_PER_CELL;
  const history = Math.min(MAX_SCROLLBACK_BYTES, budgetBytes - rows * bytesPerLine);
  return Math.max(0, Math.floor(history / bytesPerLine));
}
