import type { OutFrame, Snapshot } from '../../shared/protocol';

/** Frames held while waiting for a snapshot; beyond this the stream resyncs instead of growing. */
export const MAX_QUEUED_FRAMES = 2000;

export interface TermSink {
  reset(): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
}

/**
 * A guest's view of one tab's stream: applies the late-join snapshot, then live frames strictly in
 * sequence. Frames that arrive before the snapshot are held; a gap asks for a fresh snapshot.
 */
export class TermStream {
  private seq: number | null = null;
  private queue: OutFrame[] = [];
  private syncing = true;

  constructor(
    private sink: TermSink,
    private requestSync: () => void,
  ) {}

  get lastSeq(): number | null {
    return this.seq;
  }

  snapshot(s: Snapshot): void {
    this.sink.reset();
    this.sink.resize(s.cols, s.rows);
    this.sink.write(s.data);
    this.seq = s.seq;
    this.syncing = false;
    const held = this.queue;
    this.queue = [];
    for (const f of held) this.out(f);
  }

  out(f: OutFrame): void {
    if (this.syncing) {
      if (this.queue.length < MAX_QUEUED_FRAMES) this.queue.push(f);
      return;
    }
    const seq = this.seq ?? 0;
    if (f.seq <= seq) return; // already in the snapshot
    if (f.seq !== seq + 1) {
      this.resync(f);
      return;
    }
    this.seq = f.seq;
    this.sink.write(f.data);
  }

  private resync(f: OutFrame): void {
    this.syncing = true;
    this.queue = [f];
    this.requestSync();
  }
}
