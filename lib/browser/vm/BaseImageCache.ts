import { DiskReadError, type RangeReader } from './httpRangeReader';

/** Range-read granularity: fewer requests than per-sector reads, little overfetch. */
export const DISK_CHUNK_BYTES = 128 * 1024;
/** Base chunks kept in memory (least recently used go first); the guest has its own page cache too. */
export const MAX_READ_CACHE_BYTES = 64 * 1024 * 1024;
/** v86 reads and writes in multiples of 256 bytes. */
export const UNIT_BYTES = 256;
/** Transient read failures (network, 5xx) are retried this many times before the disk gives up. */
const READ_RETRIES = 3;
const RETRY_BASE_MS = 500;

/**
 * The server's base image (never written) in fixed chunks: fetched on demand over Range, one
 * request per chunk however many reads wait for it, transient failures retried with backoff, the
 * most recently used chunks kept in memory.
 */
export class BaseImageCache {
  /** Bytes of the base image fetched so far (for the bench and the e2e test). */
  bytesFetched = 0;
  private chunks = new Map<number, Uint8Array>();
  private inflight = new Map<number, Promise<Uint8Array>>();
  private closed = false;

  constructor(
    private o: {
      size: number;
      read: RangeReader;
      sleep?: (ms: number) => Promise<void>;
    },
  ) {}

  /**
   * Checks the image's size against the announced one with one 256-byte read of its end: a
   * truncated or replaced image fails here, before the guest boots. Throws with the reason.
   */
  async probeEnd(): Promise<void> {
    const tail = await this.o.read(this.o.size - UNIT_BYTES, UNIT_BYTES);
    this.bytesFetched += tail.byteLength;
  }

  has(c: number): boolean {
    return this.chunks.has(c);
  }

  /** Chunk `c` when in memory (it then leaves memory last), else undefined. */
  get(c: number): Uint8Array | undefined {
    const chunk = this.chunks.get(c);
    if (chunk) {
      // Touch for LRU: a Map iterates in insertion order.
      this.chunks.delete(c);
      this.chunks.set(c, chunk);
    }
    return chunk;
  }

  /** Fetches chunk `c` into memory (always DISK_CHUNK_BYTES long: the last one is zero-padded). */
  fetch(c: number): Promise<Uint8Array> {
    let p = this.inflight.get(c);
    if (p) return p;
    const start = c * DISK_CHUNK_BYTES;
    const length = Math.min(DISK_CHUNK_BYTES, this.o.size - start);
    p = (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const data = await this.o.read(start, length);
          this.bytesFetched += data.byteLength;
          // The last chunk may be short; keep every chunk full-sized so offsets stay simple.
          const full = data.byteLength === DISK_CHUNK_BYTES ? data : padded(data);
          this.chunks.set(c, full);
          while (this.chunks.size * DISK_CHUNK_BYTES > MAX_READ_CACHE_BYTES) this.chunks.delete(this.chunks.keys().next().value as number);
          return full;
        } catch (e) {
          const transient = e instanceof DiskReadError ? e.transient : true;
          if (!transient || attempt >= READ_RETRIES || this.closed) throw e;
          await (this.o.sleep ?? defaultSleep)(RETRY_BASE_MS * 2 ** attempt);
        }
      }
    })().finally(() => this.inflight.delete(c));
    this.inflight.set(c, p);
    return p;
  }

  /** Stops retrying: a read failing from now on fails for good. */
  close(): void {
    this.closed = true;
  }
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(DISK_CHUNK_BYTES);
  out.set(data);
  return out;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
