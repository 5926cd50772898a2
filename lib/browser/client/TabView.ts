import type { Terminal as XTerm } from '@xterm/xterm';
import type { FitAddon as XFit } from '@xterm/addon-fit';
import type { OutFrame, Snapshot } from '../../shared/protocol';
import type { Engine } from '../vm/Engine';
import type { TermView, TermViewHandlers, ViewOptions } from '../room/TermView';
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
  private follow = false;
  private revealFrame = 0;
  /** Escape was the last key: a Tab now leaves the terminal (as in CodeMirror), not the shell's completion. */
  private escaped = false;

  constructor(
    libs: XtermLibs,
    parent: HTMLElement,
    readonly id: string,
    opts: TermViewHandlers & { view?: ViewOptions },
  ) {
    this.el = document.createElement('div');
    this.el.className = 'term';
    this.el.dataset.tab = id;
    parent.appendChild(this.el);
    this.term = new libs.Terminal({
      cursorBlink: true,
      fontFamily: TERM_FONT,
      fontSize: opts.view?.fontPx ?? 14,
      screenReaderMode: opts.view?.screenReader ?? false,
      scrollback: 5000,
      theme: { background: '#000000' },
      allowProposedApi: true, // decorations for command badges
    });
    this.fit = new libs.FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(this.el);
    this.term.attachCustomKeyEventHandler((e) => this.ownKey(e));
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
    this.term.onWriteParsed(() => this.follow && this.scheduleReveal());
    this.term.onResize(() => this.follow && this.scheduleReveal());
    this.follow = opts.view?.follow ?? false;
  }

  /**
   * Keys the page keeps from the VM: Ctrl+C (Cmd+C) with text selected copies it, for everyone;
   * without a selection it is the usual interrupt. Tab moves focus out of a read-only terminal,
   * and out of any terminal right after Escape, so a keyboard never gets stuck in it.
   */
  private ownKey(e: KeyboardEvent): boolean {
    if (e.type !== 'keydown') return true;
    const escaped = this.escaped;
    this.escaped = e.key === 'Escape';
    if (e.key === 'Tab' && !e.ctrlKey && !e.altKey && !e.metaKey && (escaped || this.term.options.disableStdin)) return false;
    if (!(e.ctrlKey || e.metaKey) || e.altKey || e.key.toLowerCase() !== 'c' || !this.term.hasSelection()) return true;
    void navigator.clipboard?.writeText(this.term.getSelection()).catch(() => {});
    e.preventDefault();
    return false;
  }

  configure(o: ViewOptions): void {
    if (this.term.options.fontSize !== o.fontPx) this.term.options.fontSize = o.fontPx;
    if (this.term.options.screenReaderMode !== o.screenReader) this.term.options.screenReaderMode = o.screenReader;
    this.follow = o.follow;
    if (o.follow) this.scheduleReveal();
  }

  private scheduleReveal(): void {
    cancelAnimationFrame(this.revealFrame);
    this.revealFrame = requestAnimationFrame(() => this.reveal());
  }

  /** Scrolls the newest line and the cursor into view: xterm's own scrollback, then the page's box. */
  private reveal(): void {
    if (this.el.hidden) return;
    this.term.scrollToBottom();
    const row = this.el.querySelectorAll<HTMLElement>('.xterm-rows > div')[this.term.buffer.active.cursorY];
    row?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    this.el.querySelector<HTMLElement>('.xterm-rows .xterm-cursor')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
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

  lastSeq(): number | null {
    return this.stream.lastSeq;
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
    cancelAnimationFrame(this.revealFrame);
    void this.stopEngine();
    this.term.dispose();
    this.el.remove();
  }
}
