import type { IDecoration, IMarker, Terminal } from '@xterm/xterm';

/** Blocks kept for navigation; older ones are dropped with the scrollback they point into. */
export const MAX_COMMAND_BLOCKS = 500;

interface Block {
  prompt: IMarker;
  exitCode: number | null;
  badge?: IDecoration;
}

/**
 * Turns the guest shell's OSC 133 marks into command blocks in xterm.js: each prompt line gets a
 * marker, each finished command an exit-code badge on its prompt line, and the view can jump
 * between commands. Works the same for host and guests, since the marks travel in the stream.
 */
export class CommandBlocks {
  private blocks: Block[] = [];
  private current: Block | null = null;
  private view = -1;

  constructor(
    private term: Terminal,
    private onChange: (count: number) => void = () => {},
  ) {
    term.parser.registerOscHandler(133, (data) => this.onMark(data));
    term.parser.registerOscHandler(633, (data) => this.onMark(data));
  }

  get count(): number {
    return this.blocks.length;
  }

  private onMark(data: string): boolean {
    const [kind, arg] = data.split(';');
    if (kind === 'A') {
      const prompt = this.term.registerMarker(0);
      if (prompt) this.current = { prompt, exitCode: null };
    } else if (kind === 'C' || kind === 'B') {
      // nothing to draw: output start is implied by the next line
    } else if (kind === 'D' && this.current && arg !== undefined && /^-?\d+$/.test(arg)) {
      const block = this.current;
      this.current = null;
      // D is printed right before the next prompt: it closes the block whose prompt came before.
      block.exitCode = Number(arg);
      this.badge(block);
      this.blocks.push(block);
      while (this.blocks.length > MAX_COMMAND_BLOCKS) {
        const old = this.blocks.shift();
        old?.badge?.dispose();
        old?.prompt.dispose();
      }
      this.view = -1;
      this.onChange(this.blocks.length);
    }
    return true; // handled: nothing to render
  }

  private badge(block: Block): void {
    const ok = block.exitCode === 0;
    const label = ok ? '✓' : `✗ ${block.exitCode}`;
    let deco: IDecoration | undefined;
    try {
      // Decorations are xterm's proposed API (the terminal is created with allowProposedApi);
      // a badge that cannot be drawn must never stop the output around it.
      deco = this.term.registerDecoration({ marker: block.prompt, anchor: 'right', x: 0, width: label.length + 1 });
    } catch {
      return;
    }
    if (!deco) return;
    block.badge = deco;
    deco.onRender((el) => {
      el.textContent = label;
      el.className = `cmd-badge ${ok ? 'ok' : 'bad'}`;
      el.title = ok ? 'exit code 0' : `exit code ${block.exitCode}`;
    });
  }

  /** Scrolls to the previous (-1) or next (+1) command's prompt. */
  jump(dir: -1 | 1): void {
    const live = this.blocks.filter((b) => !b.prompt.isDisposed && b.prompt.line >= 0);
    if (!live.length) return;
    if (this.view < 0) this.view = live.length;
    this.view = Math.max(0, Math.min(live.length - 1, this.view + dir));
    this.term.scrollToLine(live[this.view].prompt.line);
  }

  /** The screen was replaced (a snapshot): markers point into the old buffer. */
  reset(): void {
    for (const b of this.blocks) {
      b.badge?.dispose();
      b.prompt.dispose();
    }
    this.blocks = [];
    this.current = null;
    this.view = -1;
    this.onChange(0);
  }
}
