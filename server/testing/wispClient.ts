import WebSocket from 'ws';
import { decodeFrame, type WispFrame } from '../net/wispFrames';

/**
 * A Wisp v1 client for tests: records every frame the server sends, from the moment the socket
 * opens, and waits for the ones a test expects.
 */
export class WispTestClient {
  readonly frames: WispFrame[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(decodeFrame(data));
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => {});
  }

  /** Opens the socket; rejects with the HTTP status when the upgrade is refused. */
  static open(url: string): Promise<WispTestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const client = new WispTestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(frame: Buffer): void {
    this.ws.send(frame);
  }

  /** The first recorded frame matching `pred` (waiting up to `timeoutMs`), removed from the record. */
  async next(pred: (f: WispFrame) => boolean, timeoutMs = 5000): Promise<WispFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) before the frame came`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame in ${timeoutMs} ms; have ${JSON.stringify(this.frames.map((f) => f.type + ':' + f.stream))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Bytes of DATA received on `stream` until `want` bytes or `timeoutMs`. */
  async read(stream: number, want: number, timeoutMs = 5000): Promise<Buffer> {
    const parts: Buffer[] = [];
    let n = 0;
    while (n < want) {
      const f = await this.next((x) => x.stream === stream && (x.type === 'data' || x.type === 'close'), timeoutMs);
      if (f.type === 'close') throw new Error(`stream ${stream} closed (0x${f.reason.toString(16)}) after ${n} bytes`);
      if (f.type === 'data') {
        parts.push(f.payload);
        n += f.payload.length;
      }
    }
    return Buffer.concat(parts);
  }

  closeReason(stream: number, timeoutMs = 5000): Promise<number> {
    return this.next((f) => f.type === 'close' && f.stream === stream, timeoutMs).then((f) => (f as { reason: number }).reason);
  }

  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return this.next(() => false, timeoutMs).then(
      () => this.closed!,
      () => {
        if (this.closed) return this.closed;
        throw new Error('socket still open');
      },
    );
  }

  close(): void {
    this.ws.terminate();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
