import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  GW_OSC,
  GwFrameStripper,
  MAX_GW_FRAME_CHARS,
  decodeGuestAnswer,
  decodeGuestRequest,
  encodeGuestAnswer,
  encodeGuestRequest,
  requestFrame,
  toBase64,
  type GuestRequest,
  type GwFrame,
} from './gatewayFrames';

const binary = new Uint8Array([0, 1, 2, 10, 10, 13, 27, 7, 255, 254]);
const req: GuestRequest = { method: 'POST', url: 'https://example.test/a?b=1', followRedirects: true, headers: { 'content-type': 'application/octet-stream', 'x-a': 'b: c' }, body: binary };

function strip(chunks: string[]) {
  const s = new GwFrameStripper();
  let text = '';
  const frames: GwFrame[] = [];
  for (const c of chunks) {
    const r = s.push(c);
    text += r.text;
    frames.push(...r.frames);
  }
  return { text: text + s.flush(), frames };
}

describe('request frames', () => {
  it('round-trip a request with a binary body (blank lines and ESC inside the body too)', () => {
    expect(decodeGuestRequest(encodeGuestRequest(req))).toEqual(req);
    expect(decodeGuestRequest(encodeGuestRequest({ ...req, method: 'GET', body: null, headers: {} }))).toEqual({ ...req, method: 'GET', body: null, headers: {} });
  });

  it('are stripped from the output, the text around them kept, split at every possible point', () => {
    const stream = `before\r\n${requestFrame('17-42', req)}middle \x1b[1mbold\x1b[0m${GW_OSC}done;17-42;\x1b\\after\x1b]133;A\x07`;
    for (let cut = 0; cut <= stream.length; cut++) {
      const { text, frames } = strip([stream.slice(0, cut), stream.slice(cut)]);
      expect(text, `cut at ${cut}`).toBe('before\r\nmiddle \x1b[1mbold\x1b[0mafter\x1b]133;A\x07');
      expect(frames).toEqual([{ verb: 'req', id: '17-42', payload: encodeGuestRequest(req) }, { verb: 'done', id: '17-42' }]);
    }
  });

  it('survive any chunking (property)', () => {
    const frame = requestFrame('abc', req);
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.array(fc.nat(), { maxLength: 8 }), (pre, post, cuts) => {
        // Text that never contains ESC: any ESC sequence of the guest's own is covered above.
        const a = pre.replace(/\x1b/g, '');
        const b = post.replace(/\x1b/g, '');
        const all = a + frame + b;
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((x, y) => x - y);
        const bounds = [0, ...points, all.length];
        const r = strip(bounds.slice(1).map((end, i) => all.slice(bounds[i], end)));
        expect(r.text).toBe(a + b);
        expect(r.frames).toEqual([{ verb: 'req', id: 'abc', payload: encodeGuestRequest(req) }]);
      }),
    );
  });

  it('an ESC that is not a frame is held only until the next chunk or flush, then shown', () => {
    const s = new GwFrameStripper();
    expect(s.push('vim\x1b')).toEqual({ text: 'vim', frames: [] });
    expect(s.holding).toBe(true);
    expect(s.push('[2J')).toEqual({ text: '\x1b[2J', frames: [] });
    expect(s.push('x\x1b]77')).toEqual({ text: 'x', frames: [] });
    expect(s.flush()).toBe('\x1b]77');
  });

  it('refuses an oversize frame without buffering it, hides all of it, and names its id', () => {
    const big = 'A'.repeat(MAX_GW_FRAME_CHARS + 10);
    const { text, frames } = strip([`x${GW_OSC}req;big-1;`, big.slice(0, 1000), big.slice(1000), '\x07y']);
    expect(text).toBe('xy');
    expect(frames).toEqual([{ verb: 'bad', id: 'big-1', reason: 'too_large' }]);
  });

  it('refuses malformed frames; a frame broken by other output ends there and the output flows on', () => {
    expect(strip([`${GW_OSC}req;id1;QUJD\r\nprompt$ `])).toEqual({ text: '\r\nprompt$ ', frames: [{ verb: 'bad', id: 'id1', reason: 'malformed' }] });
    expect(strip([`${GW_OSC}req;;QUJD\x07`]).frames).toEqual([{ verb: 'bad', id: null, reason: 'malformed' }]);
    expect(strip([`${GW_OSC}zap;id2;QUJD\x07`]).frames).toEqual([{ verb: 'bad', id: 'id2', reason: 'malformed' }]);
    expect(strip([`${GW_OSC}req;id3;QU;JD\x07`]).frames).toEqual([{ verb: 'bad', id: 'id3', reason: 'malformed' }]);
    expect(strip([`${GW_OSC}req;id4\x07`]).frames).toEqual([{ verb: 'bad', id: 'id4', reason: 'malformed' }]);
  });

  it('refuses payloads that decode to something unexpected', () => {
    const enc = (s: string) => toBase64(new TextEncoder().encode(s));
    expect(() => decodeGuestRequest('not base64!')).toThrow(/base64/);
    expect(() => decodeGuestRequest(enc('tandem-gw 2\nmethod GET\nurl http://x/\n\n'))).toThrow(/version/);
    expect(() => decodeGuestRequest(enc('tandem-gw 1\nmethod GET\nurl http://x/\n'))).toThrow(/blank line/);
    expect(() => decodeGuestRequest(enc('tandem-gw 1\nmethod TRACE\nurl http://x/\n\n'))).toThrow(/TRACE/);
    expect(() => decodeGuestRequest(enc('tandem-gw 1\nmethod GET\n\n'))).toThrow(/url/);
    expect(() => decodeGuestRequest(enc('tandem-gw 1\nmethod GET\nurl http://x/\nheader nocolon\n\n'))).toThrow(/header/);
    expect(() => decodeGuestRequest(enc('tandem-gw 1\nmethod GET\nurl http://x/\ncookie jar\n\n'))).toThrow(/unknown field/);
    const many = Array.from({ length: 101 }, (_, i) => `header x-${i}: v`).join('\n');
    expect(() => decodeGuestRequest(enc(`tandem-gw 1\nmethod GET\nurl http://x/\n${many}\n\n`))).toThrow(/header/);
  });
});

describe('answer files', () => {
  it('round-trip a binary body and headers; head ends in "end", body is base64 lines', () => {
    const a = { ok: true as const, status: 404, statusText: 'Not Found', headers: { 'content-type': 'text/plain', 'x-evil': 'a\r\nend' }, body: binary };
    const files = encodeGuestAnswer(a);
    expect(files.head.trimEnd().split('\n').at(-1)).toBe('end');
    expect(files.head).toContain('header x-evil: a end\n');
    expect(files.body.split('\n').every((l) => l.length <= 76)).toBe(true);
    expect(decodeGuestAnswer(files.head, files.body)).toEqual({ ...a, headers: { 'content-type': 'text/plain', 'x-evil': 'a end' } });
  });

  it('carry a failure word and message', () => {
    const f = encodeGuestAnswer({ ok: false, failure: 'refused', message: 'destination refused: loopback (127.0.0.1:22)' });
    expect(f).toEqual({ head: 'tandem-gw 1\nfail refused destination refused: loopback (127.0.0.1:22)\nend\n', body: '' });
    expect(decodeGuestAnswer(f.head, f.body)).toEqual({ ok: false, failure: 'refused', message: 'destination refused: loopback (127.0.0.1:22)' });
    expect(() => decodeGuestAnswer('tandem-gw 1\nstatus 200 OK\n', '')).toThrow(/incomplete/);
  });
});
