/**
 * The wire between a CheerpX guest's `curl`/`wget` wrappers (scripts/guest/gateway/tandem-gw) and
 * the host page. CheerpX gives the page no socket into the guest, only its console output and files
 * the page writes into a DataDevice, so:
 *
 * - guest → page: the wrapper prints a private OSC sequence on its terminal,
 *   `ESC ] 7717 ; req ; <id> ; <base64 request> BEL` (or `… ; done ; <id> ; BEL` once it has read
 *   the answer). The page strips every such sequence from the output stream before anything
 *   (its own terminal, the relay to guests, the shell integration) sees it.
 * - page → guest: the answer is two files in the DataDevice, `gw-<id>.body` (base64, so the bytes
 *   survive DataDevice.writeFile's string API whatever its encoding) and then `gw-<id>.head`
 *   (text lines ending in `end`, the wrapper's signal that both are complete).
 *
 * The request, once base64-decoded, is text lines then a blank line then the body's raw bytes:
 *   tandem-gw 1 / method GET / url http://… / follow 0|1 / header Name: value … / (blank) / body
 */

export const GW_OSC = '\x1b]7717;';
/** A request frame's base64 text: the gateway's 1 MiB body cap in base64, plus 64 KiB of lines. */
export const MAX_GW_FRAME_CHARS = Math.ceil((1024 * 1024 * 4) / 3) + 64 * 1024;
export const MAX_GW_HEADERS = 100;
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** Characters a frame may hold between its introducer and its terminator. */
const FRAME_CHAR = /[A-Za-z0-9+/=;_-]/;

export type GwFrame =
  | { verb: 'req'; id: string; payload: string }
  | { verb: 'done'; id: string }
  /** A frame refused on the way: the id when it got that far (the wrapper waiting on it is told why). */
  | { verb: 'bad'; id: string | null; reason: 'too_large' | 'malformed' };

/**
 * Strips gateway frames from a terminal output stream, chunk by chunk. A frame (or the start of
 * its introducer) may be split anywhere across chunks; text that might begin one is held back
 * until the next chunk or `flush()`. A frame broken by any byte outside its alphabet is dropped
 * up to that byte (the rest flows on), so a killed wrapper cannot swallow the terminal.
 */
export class GwFrameStripper {
  private held = '';
  private inFrame = false;
  private frame = '';
  private oversize = false;

  push(chunk: string): { text: string; frames: GwFrame[] } {
    let s = this.held + chunk;
    this.held = '';
    let text = '';
    const frames: GwFrame[] = [];
    while (s.length) {
      if (!this.inFrame) {
        const at = s.indexOf(GW_OSC);
        if (at >= 0) {
          text += s.slice(0, at);
          s = s.slice(at + GW_OSC.length);
          this.inFrame = true;
          this.frame = '';
          this.oversize = false;
          continue;
        }
        const esc = s.lastIndexOf('\x1b');
        if (esc >= 0 && GW_OSC.startsWith(s.slice(esc))) {
          text += s.slice(0, esc);
          this.held = s.slice(esc);
        } else text += s;
        break;
      }
      let i = 0;
      while (i < s.length && FRAME_CHAR.test(s[i])) i++;
      this.take(s.slice(0, i));
      if (i === s.length) break;
      const c = s[i];
      if (c === '\x07' || (c === '\x1b' && s[i + 1] === '\\')) {
        frames.push(this.finish());
        s = s.slice(i + (c === '\x07' ? 1 : 2));
        continue;
      }
      if (c === '\x1b' && i + 1 === s.length) {
        // Maybe the first half of ST: wait for the next chunk.
        this.held = '\x1b';
        break;
      }
      frames.push({ verb: 'bad', id: this.idSoFar(), reason: 'malformed' });
      this.inFrame = false;
      s = s.slice(i);
    }
    return { text, frames };
  }

  /** Text held back as a possible frame start, released (nothing more came to complete it). */
  flush(): string {
    if (this.inFrame) return '';
    const t = this.held;
    this.held = '';
    return t;
  }

  get holding(): boolean {
    return this.held.length > 0 && !this.inFrame;
  }

  private take(part: string): void {
    if (this.oversize) return;
    if (this.frame.length + part.length > MAX_GW_FRAME_CHARS) {
      // Keep only the verb and id (to answer the waiting wrapper); swallow the rest unbuffered.
      this.frame = this.frame.slice(0, 80) + part.slice(0, Math.max(0, 80 - this.frame.length));
      this.oversize = true;
      return;
    }
    this.frame += part;
  }

  private idSoFar(): string | null {
    const id = this.frame.split(';')[1];
    return id !== undefined && ID_RE.test(id) ? id : null;
  }

  private finish(): GwFrame {
    this.inFrame = false;
    const id = this.idSoFar();
    if (this.oversize) return { verb: 'bad', id, reason: 'too_large' };
    const [verb, , payload, ...rest] = this.frame.split(';');
    if (!id || rest.length) return { verb: 'bad', id, reason: 'malformed' };
    if (verb === 'req' && payload) return { verb, id, payload };
    if (verb === 'done') return { verb, id };
    return { verb: 'bad', id, reason: 'malformed' };
  }
}

/** What the wrapper asks for, ready for POST /api/gateway. */
export interface GuestRequest {
  method: (typeof METHODS)[number];
  url: string;
  followRedirects: boolean;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

export class GwFrameError extends Error {}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Decodes a request frame's payload; throws GwFrameError on anything it does not expect. */
export function decodeGuestRequest(payload: string): GuestRequest {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(payload);
  } catch {
    throw new GwFrameError('the request is not base64');
  }
  const split = indexOfBlankLine(bytes);
  if (split < 0) throw new GwFrameError('the request has no blank line after its fields');
  const lines = dec.decode(bytes.subarray(0, split)).split('\n');
  if (lines[0] !== 'tandem-gw 1') throw new GwFrameError('unknown request version');
  const req: Partial<GuestRequest> & { headers: Record<string, string> } = { headers: {}, followRedirects: false };
  let headerCount = 0;
  for (const line of lines.slice(1)) {
    const sp = line.indexOf(' ');
    const [key, value] = sp < 0 ? [line, ''] : [line.slice(0, sp), line.slice(sp + 1)];
    if (key === 'method') {
      const m = METHODS.find((x) => x === value.toUpperCase());
      if (!m) throw new GwFrameError(`method ${value} is not supported`);
      req.method = m;
    } else if (key === 'url') req.url = value;
    else if (key === 'follow') req.followRedirects = value === '1';
    else if (key === 'header') {
      const colon = value.indexOf(':');
      if (colon <= 0 || ++headerCount > MAX_GW_HEADERS) throw new GwFrameError('bad header line');
      const name = value.slice(0, colon).trim().toLowerCase();
      const v = value.slice(colon + 1).trim();
      req.headers[name] = req.headers[name] !== undefined ? `${req.headers[name]}, ${v}` : v;
    } else throw new GwFrameError(`unknown field ${key.slice(0, 20)}`);
  }
  if (!req.url || !req.method) throw new GwFrameError('the request needs a method and a url');
  const body = bytes.subarray(split + 2);
  return { method: req.method, url: req.url, followRedirects: req.followRedirects ?? false, headers: req.headers, body: body.length ? body : null };
}

/** Encodes a request as the wrapper does (tests, and any JS client of the same channel). */
export function encodeGuestRequest(r: GuestRequest): string {
  const lines = ['tandem-gw 1', `method ${r.method}`, `url ${r.url}`, `follow ${r.followRedirects ? 1 : 0}`, ...Object.entries(r.headers).map(([k, v]) => `header ${k}: ${v}`)];
  const head = enc.encode(`${lines.join('\n')}\n\n`);
  const all = new Uint8Array(head.length + (r.body?.length ?? 0));
  all.set(head);
  if (r.body) all.set(r.body, head.length);
  return toBase64(all);
}

/** A request frame as the wrapper prints it. */
export function requestFrame(id: string, r: GuestRequest): string {
  return `${GW_OSC}req;${id};${encodeGuestRequest(r)}\x07`;
}

/**
 * Why a request failed, one word the wrapper maps to curl's and wget's exit codes:
 * refused → curl 7, unresolved → 6, timeout → 28, too_large → 63, redirects → 47, bad_request → 3,
 * unavailable (Internet off, not allowed, rate-limited) → 7, upstream → 56.
 */
export type GwFailure = 'refused' | 'unresolved' | 'timeout' | 'too_large' | 'redirects' | 'bad_request' | 'unavailable' | 'upstream';

export type GuestAnswer =
  | { ok: true; status: number; statusText: string; headers: Record<string, string>; body: Uint8Array }
  | { ok: false; failure: GwFailure; message: string };

/** The two files the wrapper reads: `head` last (its final `end` line says both are complete). */
export function encodeGuestAnswer(a: GuestAnswer): { head: string; body: string } {
  const clean = (s: string) => s.replace(/[\r\n]+/g, ' ');
  const lines = ['tandem-gw 1'];
  if (a.ok) {
    lines.push(`status ${a.status} ${clean(a.statusText)}`.trimEnd());
    for (const [k, v] of Object.entries(a.headers)) lines.push(`header ${clean(k)}: ${clean(v)}`);
  } else lines.push(`fail ${a.failure} ${clean(a.message)}`);
  lines.push('end');
  const b64 = a.ok ? toBase64(a.body) : '';
  return { head: `${lines.join('\n')}\n`, body: b64.replace(/.{1,76}/g, '$&\n') };
}

/** Reads the files back (tests; the wrapper does the same in sh). */
export function decodeGuestAnswer(head: string, body: string): GuestAnswer {
  const lines = head.split('\n').filter(Boolean);
  if (lines[0] !== 'tandem-gw 1' || lines.at(-1) !== 'end') throw new GwFrameError('incomplete answer');
  const fail = lines.find((l) => l.startsWith('fail '));
  if (fail) {
    const [, failure, ...msg] = fail.split(' ');
    return { ok: false, failure: failure as GwFailure, message: msg.join(' ') };
  }
  const st = lines.find((l) => l.startsWith('status '))!.split(' ');
  const headers: Record<string, string> = {};
  for (const l of lines.filter((x) => x.startsWith('header '))) {
    const [k, ...v] = l.slice(7).split(': ');
    headers[k] = v.join(': ');
  }
  return { ok: true, status: Number(st[1]), statusText: st.slice(2).join(' '), headers, body: fromBase64(body.replace(/\s+/g, '')) };
}

export function isGwId(id: string): boolean {
  return ID_RE.test(id);
}

function indexOfBlankLine(b: Uint8Array): number {
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 10 && b[i + 1] === 10) return i;
  return -1;
}

export function toBase64(b: Uint8Array): string {
  let s = '';
  // String.fromCharCode takes arguments: chunks keep the call stack small on big bodies.
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(s: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new GwFrameError('not base64');
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
