/**
 * A bare Socket.IO client over one `ws` websocket (Engine.IO 4 / Socket.IO 5 text frames), for
 * load that socket.io-client cannot generate from one process: it answers pings and joins a room,
 * and hands each event's raw frame to the caller unparsed (JSON-parsing 500 guests' worth of
 * output would cost the bench more than the server it measures). Loopback only.
 */
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../../lib/shared/protocol';

let seq = 0;

export interface RawClientOptions {
  wantHost?: boolean;
  /** Called with every event frame (`42[...]`) as received. */
  onEvent?: (frame: Buffer) => void;
  timeoutMs?: number;
}

export class RawClient {
  /** The server's socket id for this connection (the relay's peer id). */
  sid = '';
  readonly ws: WebSocket;
  private readonly joined: Promise<void>;

  constructor(baseUrl: string, room: string, o: RawClientOptions = {}) {
    this.ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
    const auth = { v: PROTOCOL_VERSION, room, clientId: `raw-${process.pid}-${++seq}`, wantHost: o.wantHost ?? false };
    this.joined = new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('raw client: no Socket.IO connect within the timeout')), o.timeoutMs ?? 20_000);
      this.ws.on('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      this.ws.on('message', (data: Buffer) => {
        const type = data[0];
        if (type === 0x34 /* '4' message */ && data[1] === 0x32 /* '2' event */) return o.onEvent?.(data);
        if (type === 0x32 /* '2' ping */) return this.ws.send('3');
        if (type === 0x30 /* '0' open */) return this.ws.send(`40${JSON.stringify(auth)}`);
        if (type === 0x34 && data[1] === 0x30 /* connected to the namespace */) {
          clearTimeout(t);
          this.sid = (JSON.parse(data.subarray(2).toString()) as { sid: string }).sid;
          resolve();
        } else if (type === 0x34 && data[1] === 0x34 /* connect error */) {
          clearTimeout(t);
          reject(new Error(`raw client refused: ${data.subarray(2).toString()}`));
        }
      });
    });
  }

  ready(): Promise<void> {
    return this.joined;
  }

  /** Emits an event; `cb` runs once the frame is handed to the kernel. */
  emit(event: string, payload: unknown, cb?: (err?: Error) => void): void {
    this.ws.send(`42${JSON.stringify([event, payload])}`, cb);
  }

  /** Stops reading: the server's buffers for this client fill as a stalled reader's would. */
  pause(): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  resume(): void {
    (this.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The event name of a raw `42["name",…]` frame (read from its first bytes only). */
export function eventName(frame: Buffer): string {
  const end = frame.indexOf(0x22, 4); // the closing quote of the name
  return end > 4 ? frame.toString('latin1', 4, end) : '';
}

/** The `seq` of a raw term:out frame: the relay writes {tab, seq, data} in that order. */
export function frameSeq(frame: Buffer): number {
  const head = frame.toString('latin1', 0, 96);
  const m = /"seq":(\d+)/.exec(head);
  return m ? Number(m[1]) : -1;
}
