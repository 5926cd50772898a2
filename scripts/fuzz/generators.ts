/**
 * What the fuzzer sends, as fast-check arbitraries: Socket.IO events (every inbound and control
 * event, unknown ones, wrong types, missing fields, huge strings, binary junk, replayed sequence
 * numbers), handshakes (wrong versions and room ids), truncated Socket.IO frames, Yjs frames
 * (junk, truncated sync and awareness messages) and HTTP requests (every route, bad ids and
 * escapes, junk bodies). Shapes start from the real ones and are then broken.
 */
import fc from 'fast-check';
import * as Y from 'yjs';
import { controlSchemas, inboundSchemas, MAX_OUTPUT_CHUNK_BYTES, MAX_SOCKET_FRAME_BYTES, PROTOCOL_VERSION } from '../../lib/shared/protocol';

const EVENTS = [...Object.keys(inboundSchemas), ...Object.keys(controlSchemas)];

/** Strings that break parsers and validators, and ids a little outside the allowed alphabet. */
const nasty = fc.constantFrom('', ' ', '\u0000', '../etc/passwd', 'MAIN', 'main\n', '%ff', '%', '\ud800', '🙂', 'a'.repeat(70), '__proto__', 'constructor', '-x', 'null');
const str = fc.oneof(fc.string({ maxLength: 40 }), nasty, fc.string({ unit: 'binary', maxLength: 40 }));
/** Up to ~1.1 MB: past the 64 KB chunk cap and, sometimes, past the 1 MB frame cap. */
const huge = fc.oneof(
  fc.integer({ min: MAX_OUTPUT_CHUNK_BYTES - 2, max: MAX_OUTPUT_CHUNK_BYTES + 2 }),
  fc.integer({ min: 1, max: 300_000 }),
  fc.constant(MAX_SOCKET_FRAME_BYTES + 100),
).map((n) => 'x'.repeat(n));
const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1, 2 ** 53, Number.NaN, Infinity), fc.nat(5));
const junk = fc.oneof(str, num, fc.boolean(), fc.constant(null), fc.constant(undefined), fc.uint8Array({ maxLength: 64 }), fc.array(fc.anything(), { maxLength: 3 }), fc.anything({ maxDepth: 2 }));
const tab = fc.oneof({ weight: 4, arbitrary: fc.constant('main') }, fc.constant('t2'), str, num);

/** A field set close to the real one, then broken: a field dropped, retyped or huge. */
function mutate(base: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc.tuple(base, fc.nat(9), junk, huge).map(([o, how, j, h]) => {
    const keys = Object.keys(o);
    const k = keys[how % Math.max(1, keys.length)];
    if (how < 3 || !k) return o; // valid-looking: reaches the handler itself
    const c = { ...o };
    if (how === 3) delete c[k];
    else if (how <= 6) c[k] = j;
    else if (how === 7) c[k] = h;
    else return j; // not an object at all
    return c;
  });
}

const seq = fc.oneof(fc.integer({ min: 1, max: 6 }), num); // small seqs repeat: replays
const payloads: Record<string, fc.Arbitrary<unknown>> = {
  'term:out': mutate(fc.record({ tab, seq, data: fc.oneof(str, fc.string({ maxLength: 200 })) })),
  'term:in': mutate(fc.record({ tab, data: str })),
  'term:resize': mutate(fc.record({ tab, cols: num, rows: num })),
  'term:sync': mutate(fc.record({ tab })),
  'host:status': mutate(fc.record({ tab, phase: fc.constantFrom('loading', 'booting', 'ready', 'failed', 'nope'), progress: num, message: str })),
  'tab:open': mutate(fc.record({ tab, title: str })),
  'tab:close': mutate(fc.record({ tab })),
  'screen:frame': mutate(fc.record({ seq, width: num, height: num, data: fc.oneof(str, fc.constant('data:image/png;base64,AAAA')) })),
  'screen:input': mutate(fc.record({ events: fc.array(fc.record({ kind: fc.constantFrom('key', 'mouse', 'wheel', 'x'), code: str, down: fc.boolean(), dx: num, dy: num, buttons: num }), { maxLength: 80 }) })),
  'control:mode': mutate(fc.record({ mode: fc.oneof(fc.constantFrom('all', 'single'), str) })),
  'control:grant': mutate(fc.record({ memberId: fc.oneof(fc.constantFrom('a:someone', 'u:1', 'h:headless'), str) })),
};

export interface SocketMessage {
  /** 0: the room's host, 1: a guest. */
  from: 0 | 1;
  event: string;
  args: unknown[];
}

export const socketMessage: fc.Arbitrary<SocketMessage> = fc
  .tuple(fc.constantFrom<0 | 1>(0, 1), fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...EVENTS) }, { weight: 1, arbitrary: str }), fc.nat(19))
  .chain(([from, event, extra]) =>
    (Object.hasOwn(payloads, event) ? payloads[event] : fc.oneof(junk, fc.constant({}))).map((p) => ({ from, event, args: extra === 0 ? [] : extra === 1 ? [p, p] : [p] })),
  );

export interface Handshake {
  auth: unknown;
}
export const handshake = (rooms: string[]): fc.Arbitrary<Handshake> =>
  fc.record({
    v: fc.oneof({ weight: 3, arbitrary: fc.constant(PROTOCOL_VERSION) }, num, str),
    room: fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...rooms) }, str, fc.constantFrom('UPPER', 'no-such-room', 'a'.repeat(64))),
    clientId: fc.oneof(fc.string({ minLength: 8, maxLength: 20 }), str),
    wantHost: fc.oneof(fc.boolean(), junk),
    name: fc.oneof(fc.constant(undefined), str, huge),
    hostToken: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, str, fc.constant('room.123.abc')),
  }).map((auth) => ({ auth }));

/** A real Socket.IO event frame cut short, or framing junk. */
export const truncatedFrame: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(socketMessage, fc.double({ min: 0, max: 1, noNaN: true })).map(([m, f]) => {
    const full = `42${JSON.stringify([m.event, ...m.args.map((a) => (a instanceof Uint8Array ? [...a] : a))])}`;
    return full.slice(0, Math.max(1, Math.floor(full.length * f)));
  }),
  fc.constantFrom('4', '42', '42[', '42["term:out"', '45', '451-["term:out",{"_placeholder":true,"num":0}]', '40{', '41', '43', '6', '9', '4' + '['.repeat(5000)),
);

/** Yjs websocket frames: a real update or awareness message cut or corrupted, or random bytes. */
const realUpdate = (() => {
  const doc = new Y.Doc();
  doc.getText('notes').insert(0, 'fuzz notes');
  doc.getMap('control').set('mode', 'single');
  return Y.encodeStateAsUpdate(doc);
})();
export const yjsFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc.tuple(fc.constantFrom(0, 1, 2, 3, 127, 255), fc.constantFrom(0, 1, 2, 9), fc.uint8Array({ maxLength: 64 })).map(([a, b, r]) => Uint8Array.from([a, b, ...r])),
  fc.tuple(fc.nat(realUpdate.length), fc.nat(255), fc.nat(realUpdate.length)).map(([cut, byte, at]) => {
    const u = Uint8Array.from([0, 2, ...varUint(realUpdate.length), ...realUpdate]);
    if (at < u.length) u[at] = byte;
    return u.slice(0, cut + 3);
  }),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((r) => Uint8Array.from([1, ...varUint(r.length + 3), ...r])),
);

/** encodeURIComponent, which throws on a lone surrogate: that one becomes a malformed escape. */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ff';
  }
}

function varUint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

export const httpRequest = (rooms: string[]): fc.Arbitrary<HttpRequest> => {
  const id = fc.oneof(fc.constantFrom(...rooms), fc.constantFrom('%ff', '%', '%2e%2e', '..', 'x'.repeat(300), '123', 'ROOM'), fc.string({ maxLength: 12 }).map(enc));
  const path = fc.oneof(
    fc.constantFrom('/healthz', '/api', '/api/', '/api/openapi.json', '/api/rooms', '/api/me', '/api/me/rooms', '/api/me/tokens', '/api/commands/batch', '/rooms/new', '/api/account/signup', '/vm/manifest.json', '/nope'),
    id.map((x) => `/api/rooms/${x}`),
    id.map((x) => `/api/rooms/${x}/members`),
    id.map((x) => `/api/rooms/${x}/invites`),
    id.map((x) => `/api/rooms/${x}/commands`),
    id.map((x) => `/api/rooms/${x}/net`),
    id.map((x) => `/api/rooms/${x}/net-token`),
    id.map((x) => `/api/rooms/${x}/leave`),
    id.map((x) => `/api/me/tokens/${x}`),
    id.map((x) => `/api/commands/${x}`),
    id.map((x) => `/api/invites/${x}`),
    id.map((x) => `/vm/manifest.json?room=${x}`),
    id.map((x) => `/vm/boot-snapshot/${x}`),
    id.map((x) => `/vm/disk/${x}`),
    id.map((x) => `/vm/${x}`),
  );
  const json = fc.oneof(fc.json(), fc.record({ cmd: str, room: fc.oneof(fc.constantFrom(...rooms), str), timeoutMs: num }).map((o) => JSON.stringify(o)));
  const body = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: json },
    { weight: 2, arbitrary: str },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2_000_000 }).map((n) => Buffer.alloc(n, 0x61)) },
  );
  return fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
    // Commands never wait: a fuzzed POST /api must not hold a connection for a minute.
    path: path.map((p) => (p.startsWith('/api') ? `${p}${p.includes('?') ? '&' : '?'}wait=false` : p)),
    headers: fc.record(
      {
        'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ''),
        authorization: fc.oneof(fc.constant('Bearer nope'), str.map((s) => `Bearer ${s}`), fc.constant('Basic Zm9vOmJhcg==')),
        cookie: fc.oneof(fc.constant('tandem.session=forged'), str.map((s) => `authjs.session-token=${enc(s)}`)),
        origin: fc.constantFrom('http://evil.example', 'null'),
      },
      { requiredKeys: [] },
    ),
    body,
  });
};
