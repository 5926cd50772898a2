import type { Terminal as XTerm } from '@xterm/xterm';
import type { FitAddon as XFit } from '@xterm/addon-fit';
import type { OutFrame, Snapshot } from '../../shared/protocol';
import type { Engine } from '../vm/Engine';
import { CommandBlocks } from './CommandBlocks';
import { TermStream } from './TermStream';

/** Output kept for resending after a reconnect (the relay's per-frame cap is 64 KiB). */
export const MAX_RESEND_CHARS = 1024 * 1024;

export interface XtermLibs {
  Terminal: typeof XTerm;
  FitAddon: typeof XFit;
}

/**
 * One terminal of a room in the browser: an xterm.js view, its command blocks, and either the VM
 * engine that feeds it (on the host) or the relayed stream (on guests).
 */
export class TabView {
  readonly term: XTerm;
  readonly fit: XFit;
  readonly blocks: CommandBlocks;
  readonly stream: TermStream;
  readonly el: HTMLDivElement;
  engine: Engine | null = null;
  /** An engine is being created for this view: never start a second one. */
  starting = false;
  /** The host's sequence number for this tab's output frames. */
  hostSeq = 0;
  /** Frames sent lately, so those a dying server never relayed can be sent again (term:ack). */
  private sent: { seq: number; data: string }[] = [];
  private sentChars = 0;

  /** Numbers and keeps one output frame for the room; returns it to emit. */
  frame(data: string): { tab: string; seq: number; data: string } {
    const f = { seq: ++this.hostSeq, data };
    this.sent.push(f);
    this.sentChars += data.length;
    while (this.sentChars > MAX_RESEND_CHARS && this.sent.length > 1) this.sentChars -= this.sent.shift()!.data.length;
    return { tab: this.id, ...f };
  }

  /** The frames after the last one the room has (after a reconnect), in order. */
  unacked(hostSeq: number): { tab: string; seq: number; data: string }[] {
    return this.sent.filter((f) => f.seq > hostSeq).map((f) => ({ tab: this.id, ...f }));
  }

  constructor(
    libs: XtermLibs,
    parent: HTMLElement,
    readonly id: string,
    opts: { onCommands: (tab: string, n: number) => void; requestSync: (tab: string) => void; onInput: (tab: string, data: string) => void },
  ) {
    this.el = document.createElement('div');
    this.el.className = 'term';
    this.el.dataset.tab = id;
    parent.appendChild(this.el);
    this.term = new libs.Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace',
      fontSize: 14,
      scrollback: 5000,
      theme: { background: '#000000' },
      allowProposedApi: true, // decorations for command badges
    });
    this.fit = new libs.FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(this.el);
    this.blocks = new CommandBlocks(this.term, (n) => opts.onCommands(id, n));
    this.stream = new TermStream(
      {
        reset: () => {
          this.blocks.reset();
          this.term.reset();
        },
        write: (d) => this.term.write(d),
        resize: (c, r) => this.term.resize(c, r),
      },
      () => opts.requestSync(id),
    );
    this.term.onData((data) => opts.onInput(id, data));
  }

  show(visible: boolean): void {
    this.el.hidden = !visible;
    if (visible) this.term.focus();
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
