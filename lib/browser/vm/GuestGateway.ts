import {
  GwFrameStripper,
  decodeGuestRequest,
  encodeGuestAnswer,
  toBase64,
  fromBase64,
  GwFrameError,
  type GuestAnswer,
  type GwFailure,
  type GwFrame,
} from './gatewayFrames';

/** Requests a guest may have in flight at once; more are answered "busy" at once. */
export const MAX_GW_IN_FLIGHT = 4;
/** A lone ESC at the end of a chunk is held this long for the rest of a frame's introducer. */
const HOLD_MS = 50;

export interface GuestGatewayOptions {
  /** The page's origin for /api/gateway ('' in the page: same origin). */
  baseUrl: string;
  room: string;
  /** The host seat's network token (`/net/<token>/` from net-token): the gateway's credential for this VM. */
  netToken: string;
  /** Writes a file the guest reads (CheerpX: DataDevice.writeFile under /data; a temp dir in tests). */
  writeFile(name: string, text: string): Promise<void>;
  /** Receives the terminal output with every gateway frame removed. */
  output(text: string): void;
  fetch?: typeof fetch;
}

/**
 * The page's half of the CheerpX guests' curl/wget wrappers: strips their frames from the VM's
 * output, fetches through POST /api/gateway (the server's policy, caps and audit apply), and
 * writes the answer where the wrapper waits for it. Transport-free apart from `fetch`: the same
 * module runs in Node in the integration test, acting as the page.
 */
export class GuestGateway {
  private stripper = new GwFrameStripper();
  private inFlight = 0;
  private holdTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  readonly counters = { requests: 0, refusedFrames: 0 };

  constructor(private o: GuestGatewayOptions) {}

  push(chunk: string): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    const { text, frames } = this.stripper.push(chunk);
    if (text) this.o.output(text);
    for (const f of frames) void this.handle(f);
    if (this.stripper.holding)
      this.holdTimer = setTimeout(() => {
        this.holdTimer = null;
        const t = this.stripper.flush();
        if (t) this.o.output(t);
      }, HOLD_MS);
  }

  close(): void {
    this.closed = true;
    if (this.holdTimer) clearTimeout(this.holdTimer);
  }

  private async handle(f: GwFrame): Promise<void> {
    if (f.verb === 'done') {
      // The wrapper has read its answer: free the DataDevice's memory (it has no delete).
      await Promise.all([this.o.writeFile(`gw-${f.id}.body`, ''), this.o.writeFile(`gw-${f.id}.head`, '')]).catch(() => {});
      return;
    }
    if (f.verb === 'bad') {
      this.counters.refusedFrames++;
      if (f.id) await this.answer(f.id, { ok: false, failure: f.reason === 'too_large' ? 'too_large' : 'bad_request', message: f.reason === 'too_large' ? 'the request is over 1 MiB' : 'the request frame was garbled (was other output printed in the middle of it?)' });
      return;
    }
    if (this.inFlight >= MAX_GW_IN_FLIGHT) return this.answer(f.id, { ok: false, failure: 'unavailable', message: `at most ${MAX_GW_IN_FLIGHT} requests at once` });
    this.inFlight++;
    this.counters.requests++;
    try {
      await this.answer(f.id, await this.fetchFor(f.payload));
    } finally {
      this.inFlight--;
    }
  }

  private async fetchFor(payload: string): Promise<GuestAnswer> {
    let req;
    try {
      req = decodeGuestRequest(payload);
    } catch (e) {
      return { ok: false, failure: 'bad_request', message: e instanceof GwFrameError ? e.message : 'unreadable request' };
    }
    const f = this.o.fetch ?? fetch;
    let r: Response;
    try {
      r = await f(`${this.o.baseUrl}/api/gateway`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-net-token': this.o.netToken },
        body: JSON.stringify({
          url: req.url,
          method: req.method,
          headers: req.headers,
          ...(req.body ? { body_b64: toBase64(req.body) } : {}),
          responseType: 'arrayBuffer',
          followRedirects: req.followRedirects,
          room: this.o.room,
        }),
      });
    } catch (e) {
      return { ok: false, failure: 'unavailable', message: `the Tandem server did not answer: ${(e as Error).message}` };
    }
    const j = (await r.json().catch(() => null)) as
      | { status: number; statusText: string; headers: Record<string, string>; data_b64: string }
      | { error?: { code?: string; message?: string } }
      | null;
    if (r.ok && j && 'status' in j) return { ok: true, status: j.status, statusText: j.statusText, headers: j.headers, body: fromBase64(j.data_b64) };
    const err = j && 'error' in j ? j.error : undefined;
    const message = err?.message ?? `the gateway answered ${r.status}`;
    return { ok: false, failure: failureOf(err?.code, message), message };
  }

  private async answer(id: string, a: GuestAnswer): Promise<void> {
    if (this.closed) return;
    const { head, body } = encodeGuestAnswer(a);
    try {
      await this.o.writeFile(`gw-${id}.body`, body);
      await this.o.writeFile(`gw-${id}.head`, head);
    } catch {
      // The VM is gone: nobody waits for the answer.
    }
  }
}

/** The gateway's named error (and, for UPSTREAM_FAILED, its message) → the wrapper's failure word. */
export function failureOf(code: string | undefined, message: string): GwFailure {
  switch (code) {
    case 'FORBIDDEN':
      return /destination refused/.test(message) ? 'refused' : 'unavailable';
    case 'UPSTREAM_TIMEOUT':
      return 'timeout';
    case 'TOO_LARGE':
      return 'too_large';
    case 'BAD_MESSAGE':
      return 'bad_request';
    case 'UPSTREAM_FAILED':
      return /does not resolve/.test(message) ? 'unresolved' : /redirects/.test(message) ? 'redirects' : 'upstream';
    default:
      return 'unavailable';
  }
}
