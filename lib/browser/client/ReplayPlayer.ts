/**
 * Plays one terminal's recording from the server's recording API into a terminal view. Seeking
 * asks the server for the keyframe at or before the time plus the events after it (a bounded
 * read, whatever the recording's length), then playback pages events in from a cursor.
 */
export type CastEv = [number, string, string];

export interface ReplaySink {
  reset(): void;
  resize(cols: number, rows: number): void;
  write(data: string): void;
}

export interface SeekAnswer {
  t: number;
  keyframe: { cols: number; rows: number; data: string } | null;
  events: CastEv[];
  next: string | null;
  startT: number;
  endT: number;
}

export interface ReplaySource {
  seek(t: number): Promise<SeekAnswer>;
  events(cursor: string): Promise<{ events: CastEv[]; next: string | null }>;
}

/** Playback fetches the next page when fewer than this many events are left. */
const LOW_WATER_EVENTS = 500;
const TICK_MS = 33;

export class ReplayPlayer {
  /** Timeline position (seconds, the recording's own clock). */
  position = 0;
  startT = 0;
  endT = 0;
  speed = 1;
  playing = false;
  private queue: CastEv[] = [];
  private cursor: string | null = null;
  private fetching = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastTick = 0;
  /** Bumped by every seek, so an older answer arriving late is ignored. */
  private generation = 0;

  constructor(
    private source: ReplaySource,
    private sink: ReplaySink,
    private onChange: () => void = () => {},
  ) {}

  /** Shows the screen at time `t` (keyframe + events up to it); keeps playing if it was. */
  async seek(t: number): Promise<void> {
    const gen = ++this.generation;
    const a = await this.source.seek(t);
    if (gen !== this.generation) return;
    this.startT = a.startT;
    this.endT = a.endT;
    this.sink.reset();
    if (a.keyframe) {
      this.sink.resize(a.keyframe.cols, a.keyframe.rows);
      this.sink.write(a.keyframe.data);
    }
    for (const e of a.events) this.apply(e);
    this.position = Math.max(a.startT, Math.min(t, a.endT));
    this.queue = [];
    this.cursor = a.next;
    this.onChange();
  }

  play(): void {
    if (this.playing) return;
    if (this.position >= this.endT && !this.cursor && !this.queue.length) return void this.seek(this.startT).then(() => this.play());
    this.playing = true;
    this.lastTick = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.onChange();
  }

  pause(): void {
    this.playing = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.onChange();
  }

  private tick(): void {
    const now = performance.now();
    this.position += ((now - this.lastTick) / 1000) * this.speed;
    this.lastTick = now;
    while (this.queue.length && this.queue[0][0] <= this.position) this.apply(this.queue.shift()!);
    if (this.queue.length < LOW_WATER_EVENTS && this.cursor && !this.fetching) void this.fill();
    if (!this.queue.length && !this.cursor && !this.fetching) {
      this.position = this.endT;
      this.pause();
      return;
    }
    this.onChange();
  }

  private async fill(): Promise<void> {
    const gen = this.generation;
    this.fetching = true;
    try {
      const r = await this.source.events(this.cursor!);
      if (gen !== this.generation) return;
      this.queue.push(...r.events);
      this.cursor = r.next;
      if (r.events.length) this.endT = Math.max(this.endT, r.events[r.events.length - 1][0]);
    } finally {
      this.fetching = false;
    }
  }

  private apply([, code, data]: CastEv): void {
    if (code === 'o') this.sink.write(data);
    else if (code === 'r') {
      const [c, r] = data.split('x').map(Number);
      if (c > 0 && r > 0) this.sink.resize(c, r);
    }
  }

  dispose(): void {
    this.generation++;
    this.pause();
  }
}

/** The recording API of one room's terminal as a ReplaySource. */
export function httpReplaySource(roomId: string, tab: string): ReplaySource {
  const base = `/api/rooms/${encodeURIComponent(roomId)}/recordings/${encodeURIComponent(tab)}`;
  const get = async <T>(url: string): Promise<T> => {
    const r = await fetch(url);
    const body = await r.json();
    if (!r.ok) throw new Error(body?.error?.message ?? `HTTP ${r.status}`);
    return body as T;
  };
  return {
    seek: (t) => get<SeekAnswer>(`${base}/seek?t=${t}`),
    events: (cursor) => get(`${base}/events?cursor=${encodeURIComponent(cursor)}`),
  };
}
