import type { Terminal as XTerm } from '@xterm/xterm';
import type { FitAddon as XFit } from '@xterm/addon-fit';
import type { OutFrame, Snapshot } from '../../shared/protocol';
import type { Engine } from '../vm/Engine';
import type { TermView, TermViewHandlers } from '../room/TermView';
import { CommandBlocks } from './CommandBlocks';
import { TermStream } from './TermStream';

export interface XtermLibs {
  Terminal: typeof XTerm;
  FitAddon: typeof XFit;
}

/** The terminal's look for every viewer; the font size is each viewer's own. */
export const TERM_FONT = 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace';

/**
 * One terminal of a room in the browser: an xterm.js view, its command blocks, and either the VM
 * engine that feeds it (on the host) or the relayed stream (on guests).
 */
export class TabView implements TermView {
  readonly term: XTerm;
  readonly fit: XFit;
  readonly blocks: CommandBlocks;
  readonly stream: TermStream;
  readonly el: HTMLDivElement;
  engine: Engine | null = null;
  starting = false;
  hostSeq = 0;

  constructor(
    libs: XtermLibs,
    parent: HTMLElement,
    readonly id: string,
    opts: TermViewHandlers & { fontSize?: number; screenReaderMode?: boolean },
  ) {
    this.el = document.createElement('div');
    this.el.className = 'term';
    this.el.dataset.tab = id;
    parent.appendChild(this.el);
    this.term = new libs.Terminal({
      cursorBlink: true,
      fontFamily: TERM_FONT,
      fontSize: opts.fontSize ?? 14,
      screenReaderMode: opts.screenReaderMode ?? false,
      scrollback: 5000,
      theme: { background: '#000000' },
      allowProposedApi: true, // decorations for command badges
    });
    this.fit = new libs.FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(this.el);
    // Ctrl+C (Cmd+C) with text selected copies it, for everyone, and sends nothing to the VM; without
    // a selection it is the usual interrupt for those who may type.
    this.term.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown' || !(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== 'c' || e.altKey || !this.term.hasSelection()) return true;
      void navigator.clipboard?.writeText(this.term.getSelection()).catch(() => {});
      e.preventDefault();
      return false;
    });
    this.blocks = new CommandBlocks(this.term, (n) => opts.onCommands(id, n));
    this.stream = new TermStream(
      {
        reset: () => this.reset(),
        write: (d) => this.term.write(d),
        resize: (c, r) => this.term.resize(c, r),
      },
      () => opts.requestSync(id),
    );
    this.term.onData((data) => opts.onInput(id, data));
  }

  cols(): number {
    return this.term.cols;
  }

  rows(): number {
    return this.term.rows;
  }

  show(visible: boolean): void {
    this.el.hidden = !visible;
    if (visible) this.term.focus();
  }

  fitToBox(): void {
    if (!this.el.hidden) this.fit.fit();
  }

  reset(): void {
    this.blocks.reset();
    this.term.reset();
  }

  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
  }

  write(data: string): void {
    this.term.write(data);
  }

  setReadOnly(readOnly: boolean): void {
    this.term.options.disableStdin = readOnly;
  }

  jump(dir: -1 | 1): void {
    this.blocks.jump(dir);
  }

  snapshot(s: Snapshot): void {
    this.stream.snapshot(s);
  }

  out(f: OutFrame): void {
    this.stream.out(f);
  }

  async stopEngine(): Promise<void> {
    const e = this.engine;
    this.engine = null;
    await e?.destroy();
  }

  dispose(): void {
    void this.stopEngine();
    this.term.dispose();
    this.el.remove();
  }
}
