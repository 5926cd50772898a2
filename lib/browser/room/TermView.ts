import type { OutFrame, Snapshot } from '../../shared/protocol';
import type { Engine } from '../vm/Engine';

/** What a room session needs from one terminal's view (TabView in the page; a fake in tests). */
export interface TermView {
  readonly id: string;
  /** The VM behind this terminal (host only). */
  engine: Engine | null;
  /** An engine is being created for this view: never start a second one. */
  starting: boolean;
  /** The host's sequence number for this tab's output frames. */
  hostSeq: number;
  cols(): number;
  rows(): number;
  show(visible: boolean): void;
  /** Host: size the terminal to its box (cols × rows follow). */
  fitToBox(): void;
  reset(): void;
  /** Guest: take the host's size. */
  resize(cols: number, rows: number): void;
  /** Host: the VM's output. */
  write(data: string): void;
  setReadOnly(readOnly: boolean): void;
  /** Moves to the previous (-1) or next (1) command block. */
  jump(dir: -1 | 1): void;
  /** Guest: the relayed stream. */
  snapshot(s: Snapshot): void;
  out(f: OutFrame): void;
  /** Guest: the relay sequence number of the last frame shown (null before the first snapshot). */
  lastSeq?(): number | null;
  /** This viewer's way of seeing the terminal (text size, follow, screen reader). */
  configure(o: ViewOptions): void;
  stopEngine(): Promise<void>;
  dispose(): void;
}

export interface TermViewHandlers {
  onCommands(tab: string, n: number): void;
  requestSync(tab: string): void;
  onInput(tab: string, data: string): void;
}

export interface ViewOptions {
  fontPx: number;
  /** Keep the newest line and the cursor in view on every output (a guest following the host). */
  follow: boolean;
  screenReader: boolean;
}
