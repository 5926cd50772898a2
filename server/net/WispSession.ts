import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { CLOSE_REASON, FrameError, STREAM_TCP, closeFrame, continueFrame, dataFrame, decodeFrame, type WispFrame } from './wispFrames';
import type { NetRefusal } from './NetAudit';

/** Packets a client may send on a stream before it waits for our CONTINUE (v86 buffers beyond it). */
export const STREAM_BUFFER_PACKETS = 128;
/** We top the client's credit back up after it used half of it. */
const CONTINUE_AFTER_PACKETS = STREAM_BUFFER_PACKETS / 2;
/** Downstream bytes queued in the WebSocket before we stop reading the destinations. */
export const MAX_WS_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Upstream bytes queued towards one destination before the stream is cut (a client ignoring credit). */
export const MAX_STREAM_QUEUED_BYTES = 8 * 1024 * 1024;
/** Malformed frames and unknown stream ids a session may send before it is closed. */
export const MAX_PROTOCOL_ERRORS = 32;
export const CONNECT_TIMEOUT_MS = 10_000;

/** What a session asks its hub: admission, the policy's decision, a dial, the audit. */
export interface WispSessionDeps {
  room: string;
  send(frame: Buffer, done?: () => void): void;
  bufferedBytes(): number;
  /** Ends the WebSocket (1008 policy violation for abuse). */
  terminate(code: number, reason: string): void;
  /** Takes a stream slot for the room (null) or says why not; `release` gives it back. */
  admit(): NetRefusal | null;
  release(): void;
  /** The destination to dial for a CONNECT, after DNS and the policy; or why not. */
  resolve(hostname: string, port: number): Promise<{ ok: true; ip: string; family: 4 | 6; name: string | null } | { ok: false; reason: NetRefusal }>;
  dial(ip: string, port: number, family: 4 | 6): Socket;
  /** Bytes moved now: returns how long to wait before moving more (the room's token bucket). */
  meter(bytes: number): number;
  audit(row: StreamRecord): void;
  countProtocolError(): void;
  idleTimeoutMs: number;
  log: Logger;
}

export interface StreamRecord {
  ip: string | null;
  port: number;
  name: string | null;
  bytesUp: number;
  bytesDown: number;
  startedAt: number;
  durationMs: number;
  refused: NetRefusal | null;
  closeReason: number;
}

interface Stream {
  id: number;
  socket: Socket | null;
  ip: string | null;
  port: number;
  name: string | null;
  startedAt: number;
  lastActiveAt: number;
  bytesUp: number;
  bytesDown: number;
  packetsSinceContinue: number;
  waitingDrain: boolean;
  rateWait: ReturnType<typeof setTimeout> | null;
  holds: Set<'ws' | 'rate'>;
  closed: boolean;
  /** DATA that came while DNS and the policy were still deciding (bounded by the client's credit). */
  early: Buffer[];
}

const REFUSAL_CLOSE: Partial<Record<NetRefusal, number>> = {
  throttled: CLOSE_REASON.THROTTLED,
  room_streams: CLOSE_REASON.THROTTLED,
  server_streams: CLOSE_REASON.THROTTLED,
  udp: CLOSE_REASON.INVALID,
  invalid: CLOSE_REASON.INVALID,
  unresolved: CLOSE_REASON.UNREACHABLE,
};

/**
 * One Wisp v1 connection (the VM's network card, in the host's browser): streams keyed by id,
 * each a TCP socket to a destination our policy allowed. Transport-free: the hub hands it frames
 * and gives it a way to send; `close()` ends every stream and timer.
 */
export class WispSession {
  private streams = new Map<number, Stream>();
  private protocolErrors = 0;
  private closed = false;
  private sweeper: ReturnType<typeof setInterval>;

  constructor(private d: WispSessionDeps) {
    // Stream 0's CONTINUE is the initial credit for every stream the client opens.
    d.send(continueFrame(0, STREAM_BUFFER_PACKETS));
    this.sweeper = setInterval(() => this.sweepIdle(), Math.max(250, Math.min(10_000, d.idleTimeoutMs / 4)));
    this.sweeper.unref();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  handleMessage(buf: Buffer): void {
    if (this.closed) return;
    let f: WispFrame;
    try {
      f = decodeFrame(buf);
    } catch (e) {
      const err = e as FrameError;
      this.protocolError(err.stream, err.message);
      return;
    }
    switch (f.type) {
      case 'connect':
        return void this.open(f.stream, f.streamType, f.port, f.hostname);
      case 'data': {
        const s = this.streams.get(f.stream);
        if (!s) return this.protocolError(null, `DATA for unknown stream ${f.stream}`);
        return this.upstream(s, f.payload);
      }
      case 'close': {
        const s = this.streams.get(f.stream);
        if (!s) return this.protocolError(null, `CLOSE for unknown stream ${f.stream}`);
        return this.finish(s, CLOSE_REASON.VOLUNTARY, false);
      }
      case 'continue':
        // Only servers send CONTINUE in Wisp v1.
        return this.protocolError(null, 'CONTINUE from a client');
    }
  }

  /** Ends every open stream with `reason` (the room's Internet was switched off), keeping the session. */
  cutStreams(reason: number = CLOSE_REASON.BLOCKED): void {
    for (const s of [...this.streams.values()]) this.finish(s, reason, true, 'internet_off');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const s of [...this.streams.values()]) this.finish(s, CLOSE_REASON.NETWORK_ERROR, false);
  }

  private protocolError(stream: number | null, message: string): void {
    this.d.countProtocolError();
    if (stream !== null && stream !== 0) {
      const s = this.streams.get(stream);
      if (s) this.finish(s, CLOSE_REASON.INVALID, true);
      else this.d.send(closeFrame(stream, CLOSE_REASON.INVALID));
    }
    if (++this.protocolErrors > MAX_PROTOCOL_ERRORS) {
      this.d.log.warn({ room: this.d.room, message }, 'wisp session closed: too many protocol errors');
      this.d.terminate(1008, 'too many protocol errors');
      this.close();
    }
  }

  private refuse(id: number, port: number, reason: NetRefusal, ip: string | null = null): void {
    this.d.send(closeFrame(id, REFUSAL_CLOSE[reason] ?? CLOSE_REASON.BLOCKED));
    const now = Date.now();
    this.d.audit({ ip, port, name: null, bytesUp: 0, bytesDown: 0, startedAt: now, durationMs: 0, refused: reason, closeReason: REFUSAL_CLOSE[reason] ?? CLOSE_REASON.BLOCKED });
  }

  private async open(id: number, streamType: number, port: number, hostname: string): Promise<void> {
    if (id === 0 || this.streams.has(id)) return this.protocolError(id === 0 ? null : id, `CONNECT on ${id === 0 ? 'stream 0' : `open stream ${id}`}`);
    if (streamType !== STREAM_TCP) return this.refuse(id, port, 'udp');
    const refusal = this.d.admit();
    if (refusal) return this.refuse(id, port, refusal);
    const now = Date.now();
    const s: Stream = {
      id,
      socket: null,
      ip: null,
      port,
      name: null,
      startedAt: now,
      lastActiveAt: now,
      bytesUp: 0,
      bytesDown: 0,
      packetsSinceContinue: 0,
      waitingDrain: false,
      rateWait: null,
      holds: new Set(),
      closed: false,
      early: [],
    };
    // The slot is held while DNS runs: a flood of CONNECTs cannot outrun the stream cap.
    this.streams.set(id, s);
    let target: Awaited<ReturnType<WispSessionDeps['resolve']>>;
    try {
      target = await this.d.resolve(hostname, port);
    } catch {
      target = { ok: false, reason: 'unresolved' };
    }
    if (s.closed) return;
    if (!target.ok) {
      this.streams.delete(id);
      this.d.release();
      s.closed = true;
      return this.refuse(id, port, target.reason);
    }
    s.ip = target.ip;
    s.name = target.name;
    const socket = this.d.dial(target.ip, port, target.family);
    s.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => this.finish(s, CLOSE_REASON.CONNECT_TIMEOUT, true));
    socket.once('connect', () => socket.setTimeout(0));
    socket.on('data', (chunk: Buffer) => this.downstream(s, chunk));
    socket.on('drain', () => {
      s.waitingDrain = false;
      this.maybeContinue(s);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const reason =
        err.code === 'ECONNREFUSED' ? CLOSE_REASON.REFUSED : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' ? CLOSE_REASON.UNREACHABLE : CLOSE_REASON.NETWORK_ERROR;
      this.finish(s, reason, true);
    });
    // Wisp v1 has no half-close: the destination's end closes the stream.
    socket.on('end', () => this.finish(s, CLOSE_REASON.VOLUNTARY, true));
    socket.on('close', () => this.finish(s, CLOSE_REASON.VOLUNTARY, true));
    for (const b of s.early.splice(0)) this.upstream(s, b);
  }

  private upstream(s: Stream, payload: Buffer): void {
    if (!s.socket) {
      // Wisp lets a client send right after CONNECT; keep it until the stream is dialled.
      if (s.early.length >= STREAM_BUFFER_PACKETS) return this.protocolError(s.id, 'DATA beyond the credit before the stream was connected');
      s.early.push(payload);
      return;
    }
    s.bytesUp += payload.length;
    s.lastActiveAt = Date.now();
    s.packetsSinceContinue++;
    if (!s.socket.write(payload)) s.waitingDrain = true;
    if (s.socket.writableLength > MAX_STREAM_QUEUED_BYTES) return this.finish(s, CLOSE_REASON.THROTTLED, true);
    const wait = this.d.meter(payload.length);
    if (wait > 0 && !s.rateWait)
      s.rateWait = setTimeout(() => {
        s.rateWait = null;
        this.maybeContinue(s);
      }, wait);
    this.maybeContinue(s);
  }

  private maybeContinue(s: Stream): void {
    if (s.closed || s.waitingDrain || s.rateWait || s.packetsSinceContinue < CONTINUE_AFTER_PACKETS) return;
    s.packetsSinceContinue = 0;
    this.d.send(continueFrame(s.id, STREAM_BUFFER_PACKETS));
  }

  private downstream(s: Stream, chunk: Buffer): void {
    if (s.closed) return;
    s.bytesDown += chunk.length;
    s.lastActiveAt = Date.now();
    this.d.send(dataFrame(s.id, chunk), () => this.release(s, 'ws'));
    if (this.d.bufferedBytes() > MAX_WS_BUFFERED_BYTES) this.hold(s, 'ws');
    const wait = this.d.meter(chunk.length);
    if (wait > 0 && !s.holds.has('rate')) {
      this.hold(s, 'rate');
      setTimeout(() => this.release(s, 'rate'), wait).unref();
    }
  }

  private hold(s: Stream, why: 'ws' | 'rate'): void {
    s.holds.add(why);
    s.socket?.pause();
  }

  private release(s: Stream, why: 'ws' | 'rate'): void {
    if (!s.holds.has(why) || (why === 'ws' && this.d.bufferedBytes() > MAX_WS_BUFFERED_BYTES / 2)) return;
    s.holds.delete(why);
    if (!s.holds.size && !s.closed) s.socket?.resume();
  }

  private sweepIdle(): void {
    const cutoff = Date.now() - this.d.idleTimeoutMs;
    for (const s of [...this.streams.values()]) if (s.socket && s.lastActiveAt < cutoff) this.finish(s, CLOSE_REASON.IDLE_TIMEOUT, true);
  }

  /** Closes a stream once: tells the client (unless it asked), frees the slot, writes the audit row. */
  private finish(s: Stream, reason: number, tellClient: boolean, refused: NetRefusal | null = null): void {
    if (s.closed) return;
    s.closed = true;
    if (s.rateWait) clearTimeout(s.rateWait);
    this.streams.delete(s.id);
    s.socket?.destroy();
    s.socket?.removeAllListeners('data');
    this.d.release();
    if (tellClient && !this.closed) this.d.send(closeFrame(s.id, reason));
    this.d.audit({
      ip: s.ip,
      port: s.port,
      name: s.name,
      bytesUp: s.bytesUp,
      bytesDown: s.bytesDown,
      startedAt: s.startedAt,
      durationMs: Date.now() - s.startedAt,
      refused,
      closeReason: reason,
    });
  }
}
