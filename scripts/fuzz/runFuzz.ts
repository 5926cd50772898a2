/**
 * Sends generated messages (scripts/fuzz/generators.ts) at a running Tandem server on loopback and
 * sorts every answer: accepted, refused with a named error (a code of lib/shared/errors.ts, or a
 * connection closed for a documented cap), or unnamed (INTERNAL, a 5xx, a hang, a reset, a close
 * nobody explains). Meanwhile a bystander room's host echoes to its guest every 100 ms, so an
 * event loop the fuzz stalls shows up as latency there, and the server's RSS is sampled.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { io as connect, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { ERROR_CODES } from '../../lib/shared/errors';
import { MAX_SOCKET_FRAME_BYTES, PROTOCOL_VERSION, type ClientToServerEvents, type ServerToClientEvents } from '../../lib/shared/protocol';
import { RawClient } from '../bench/rawClient';
import type { BystanderStats } from './bystander';
import { handshake, httpRequest, socketMessage, truncatedFrame, yjsFrame, type HttpRequest, type SocketMessage } from './generators';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
const NAMED: ReadonlySet<string> = new Set(ERROR_CODES.filter((c) => c !== 'INTERNAL'));
const ANSWER_TIMEOUT_MS = 10_000;
const BATCH = 50;

export interface FuzzTarget {
  url: string;
  /** Rooms that exist: `fuzz` takes the messages, `bystander` is watched for latency. */
  rooms: { fuzz: string; bystander: string };
  /** The server's resident memory, bytes. */
  rss(): Promise<number>;
  /** False once the server process is gone. */
  alive(): boolean;
}

export interface FuzzOptions {
  messages: number;
  durationMs: number;
  seed: number;
  log?: (line: string) => void;
}

export interface FuzzReport {
  total: number;
  byKind: Record<string, number>;
  outcomes: Record<string, number>;
  unnamed: number;
  unnamedExamples: string[];
  rssStartMb: number;
  rssMaxMb: number;
  rssEndMb: number;
  bystander: { baselineP50Ms: number; baselineP99Ms: number; p50Ms: number; p99Ms: number; maxMs: number; lost: number };
  healthyAtEnd: boolean;
  seconds: number;
}

type Item = { kind: 'socket'; m: SocketMessage } | { kind: 'handshake'; auth: unknown } | { kind: 'truncated'; frame: string } | { kind: 'yjs'; frame: Uint8Array } | { kind: 'http'; req: HttpRequest };

export async function runFuzz(target: FuzzTarget, o: FuzzOptions): Promise<FuzzReport> {
  const { url, rooms } = target;
  const items: fc.Arbitrary<Item> = fc.oneof(
    { weight: 60, arbitrary: socketMessage.map((m) => ({ kind: 'socket' as const, m })) },
    { weight: 22, arbitrary: httpRequest([rooms.fuzz, 'default']).map((req) => ({ kind: 'http' as const, req })) },
    { weight: 12, arbitrary: yjsFrame.map((frame) => ({ kind: 'yjs' as const, frame })) },
    { weight: 3, arbitrary: handshake([rooms.fuzz]).map((h) => ({ kind: 'handshake' as const, auth: h.auth })) },
    { weight: 3, arbitrary: truncatedFrame.map((frame) => ({ kind: 'truncated' as const, frame })) },
  );
  const outcomes = new Map<string, number>();
  const byKind: Record<string, number> = {};
  const unnamedExamples: string[] = [];
  let unnamed = 0;
  const note = (kind: string, label: string, named: boolean, detail = '') => {
    const key = `${kind}: ${label}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    if (!named) {
      unnamed++;
      if (unnamedExamples.length < 20) unnamedExamples.push(`${key} ${detail}`.slice(0, 300));
    }
  };

  // ---- memory and the bystander
  const rssStart = await target.rss();
  let rssMax = rssStart;
  let sampling = true;
  const sampler = (async () => {
    while (sampling && target.alive()) {
      rssMax = Math.max(rssMax, await target.rss().catch(() => 0));
      await sleep(500);
    }
  })();
  const bystander = await Bystander.start(url, rooms.bystander);
  await sleep(2000);
  const baseline = await bystander.take();

  // ---- the fuzzed room's host and guest (reopened whenever the server closes one)
  const peers: (Client | null)[] = [null, null];
  const hostClientId = `fuzz-host-${o.seed}`;
  const peer = async (i: 0 | 1): Promise<Client> => {
    const cur = peers[i];
    if (cur?.connected) return cur;
    const s = socket(url, { v: PROTOCOL_VERSION, room: rooms.fuzz, clientId: i === 0 ? hostClientId : `fuzz-guest-${o.seed}`, wantHost: i === 0 });
    s.on('room:error', (e) => {
      if (e.event === 'term:sync' && e.message.includes('fuzz-barrier')) return;
      note('socket', `room:error ${e.code}`, NAMED.has(e.code), `${e.event}: ${e.message}`);
    });
    await connected(s);
    peers[i] = s;
    return s;
  };

  const started = performance.now();
  let total = 0;
  for (let batchNo = 0; total < o.messages && performance.now() - started < o.durationMs; batchNo++) {
    if (!target.alive()) break;
    const batch = fc.sample(items, { seed: o.seed + batchNo, numRuns: Math.min(BATCH, o.messages - total) });
    for (const it of batch) byKind[it.kind] = (byKind[it.kind] ?? 0) + 1;
    total += batch.length;
    const work = Promise.all([
      sendSocketBatch(batch.flatMap((b) => (b.kind === 'socket' ? [b.m] : [])), peer, note),
      pool(batch.flatMap((b) => (b.kind === 'http' ? [b.req] : [])), 6, (r) => sendHttp(url, r, note)),
      sendYjs(url, rooms.fuzz, batch.flatMap((b) => (b.kind === 'yjs' ? [b.frame] : [])), note),
      pool(batch.flatMap((b) => (b.kind === 'handshake' ? [b.auth] : [])), 4, (a) => tryHandshake(url, a, note)),
      pool(batch.flatMap((b) => (b.kind === 'truncated' ? [b.frame] : [])), 4, (f) => sendTruncated(url, rooms.fuzz, f, note)),
    ]);
    try {
      await work;
    } catch (e) {
      // The fuzzer's own clients fail to connect once the server is gone: that is the finding.
      if (target.alive()) throw e;
      note('server', 'process exited', false, String(e));
      break;
    }
    if (batchNo % 20 === 19) o.log?.(`${total} messages, ${unnamed} unnamed, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  const seconds = (performance.now() - started) / 1000;
  const during = target.alive() ? await bystander.take() : { p50: NaN, p99: NaN, max: NaN, lost: 0 };
  bystander.close();
  for (const p of peers) p?.disconnect();
  sampling = false;
  if (target.alive()) await sampler;
  const healthyAtEnd = target.alive() && (await fetch(`${url}/healthz`).then((r) => r.ok).catch(() => false));
  const rssEnd = target.alive() ? await target.rss() : 0;
  const MB = 1024 * 1024;
  return {
    total,
    byKind,
    outcomes: Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])),
    unnamed,
    unnamedExamples,
    rssStartMb: rssStart / MB,
    rssMaxMb: rssMax / MB,
    rssEndMb: rssEnd / MB,
    bystander: { baselineP50Ms: baseline.p50, baselineP99Ms: baseline.p99, p50Ms: during.p50, p99Ms: during.p99, maxMs: during.max, lost: during.lost },
    healthyAtEnd,
    seconds,
  };
}

type Note = (kind: string, label: string, named: boolean, detail?: string) => void;

function socket(url: string, auth: unknown): Client {
  return connect(url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, timeout: 5000, auth: auth as Record<string, unknown> });
}

function connected(s: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', (e) => reject(e));
  });
}

/** Emits a batch from the room's host and guest, then waits until the server has handled it all
 * (a term:sync of a tab that does not exist is answered in order, after everything before it). */
async function sendSocketBatch(msgs: SocketMessage[], peer: (i: 0 | 1) => Promise<Client>, note: Note): Promise<void> {
  for (const i of [0, 1] as const) {
    const mine = msgs.filter((m) => m.from === i);
    if (!mine.length) continue;
    const s = await peer(i);
    let oversize = false;
    const closed = new Promise<string>((r) => s.once('disconnect', (reason) => r(reason)));
    for (const m of mine) {
      try {
        (s.emit as (e: string, ...a: unknown[]) => void)(m.event, ...m.args);
      } catch {
        continue; // a name socket.io-client itself refuses to send (e.g. 'disconnect')
      }
      if (m.args.some((a) => typeof a === 'object' && a !== null && JSON.stringify(a)?.length > MAX_SOCKET_FRAME_BYTES)) oversize = true;
      note('socket', 'sent', true);
    }
    const barrier = new Promise<string>((resolve) => {
      const h = (e: { event?: string; message: string }) => {
        if (e.event === 'term:sync' && e.message.includes('fuzz-barrier')) {
          s.off('room:error', h);
          resolve('answered');
        }
      };
      s.on('room:error', h);
      s.emit('term:sync', { tab: 'fuzz-barrier' });
    });
    const r = await Promise.race([barrier, closed, sleep(ANSWER_TIMEOUT_MS).then(() => 'timeout')]);
    if (r === 'answered') continue;
    if (r === 'timeout') note('socket', 'no answer within 10 s', false);
    // The server drops a connection sending a frame over MAX_SOCKET_FRAME_BYTES (a documented cap).
    else if (oversize) note('socket', `closed: frame over ${MAX_SOCKET_FRAME_BYTES} bytes`, true);
    else note('socket', `closed: ${r}`, false, mine.map((m) => m.event).join(','));
    s.disconnect();
  }
}

async function tryHandshake(url: string, auth: unknown, note: Note): Promise<void> {
  const s = socket(url, auth);
  try {
    await Promise.race([connected(s), sleep(ANSWER_TIMEOUT_MS).then(() => Promise.reject(new Error('timeout')))]);
    note('handshake', 'accepted', true);
  } catch (e) {
    const code = (e as { data?: { code?: string } }).data?.code;
    if (code) note('handshake', `refused ${code}`, NAMED.has(code), (e as Error).message);
    // A handshake over the frame cap is dropped by engine.io before it is read (a documented cap).
    else if (JSON.stringify(auth).length > MAX_SOCKET_FRAME_BYTES) note('handshake', `closed: frame over ${MAX_SOCKET_FRAME_BYTES} bytes`, true);
    else note('handshake', `failed: ${(e as Error).message}`, false, JSON.stringify(auth).slice(0, 200));
  } finally {
    s.disconnect();
  }
}

async function sendTruncated(url: string, room: string, frame: string, note: Note): Promise<void> {
  let errorCode = '';
  const c = new RawClient(url, room, {
    onEvent: (f) => {
      const m = /^42\["room:error",\{"code":"([A-Z_]+)"/.exec(f.toString('utf8', 0, 64));
      if (m) errorCode = m[1];
    },
  });
  try {
    await c.ready();
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)));
    c.ws.send(frame);
    const r = await Promise.race([closed, sleep(300).then(() => -1)]);
    if (errorCode) note('truncated', `room:error ${errorCode}`, NAMED.has(errorCode), frame.slice(0, 80));
    else if (r === -1) note('truncated', 'ignored', true);
    else note('truncated', `closed ${r}`, true); // Socket.IO's own parser refuses it and closes
  } catch (e) {
    note('truncated', `could not connect: ${(e as Error).message}`, false);
  } finally {
    c.close();
  }
}

let yjsConn: { ws: WebSocket; open: Promise<void> } | null = null;

/** Frames on one Yjs connection to the fuzzed room; when the server closes it, the close is noted. */
async function sendYjs(url: string, room: string, frames: Uint8Array[], note: Note): Promise<void> {
  for (const f of frames) {
    if (!yjsConn || yjsConn.ws.readyState > WebSocket.OPEN) {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/yjs/${room}`);
      ws.on('error', () => {});
      ws.on('close', (code, reason) => {
        const r = reason.toString();
        note('yjs', `closed ${code} ${r}`, NAMED.has(r) || code === 1000 || code === 1005);
      });
      yjsConn = { ws, open: new Promise((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject), ws.once('close', () => resolve()))) };
    }
    try {
      await yjsConn.open;
    } catch (e) {
      note('yjs', `could not connect: ${(e as Error).message}`, false);
      yjsConn = null;
      continue;
    }
    if (yjsConn.ws.readyState === WebSocket.OPEN) {
      yjsConn.ws.send(f);
      note('yjs', 'sent', true);
    }
  }
  await sleep(5);
}

function sendHttp(url: string, r: HttpRequest, note: Note): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve) => {
    let done = false;
    const finish = (label: string, named: boolean, detail = '') => {
      if (done) return;
      done = true;
      note('http', label, named, `${r.method} ${r.path} ${detail}`);
      resolve();
    };
    let req: http.ClientRequest;
    try {
      // A connection each: a request's unread body must not garble the next one's answer.
      req = http.request({ host: u.hostname, port: u.port, method: r.method, path: r.path, headers: r.headers, timeout: ANSWER_TIMEOUT_MS, agent: false });
    } catch {
      done = true;
      return resolve(); // a path or header Node's client itself refuses to send
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => size < 65536 && (chunks.push(c), (size += c.length)));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status < 400) return finish(`${status}`, true);
        let code = '';
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString()) as { error?: { code?: string } }).error?.code ?? '';
        } catch {
          /* not JSON */
        }
        // A HEAD answer has no body to name its error: any status but a 500 is the route's own.
        if (r.method === 'HEAD') return finish(`${status} (HEAD)`, status !== 500);
        // Node's HTTP parser refuses a malformed request itself, before any handler: a bare 400.
        if (status === 400 && size === 0 && !res.headers['content-type']) return finish('400 malformed request (HTTP parser)', true);
        finish(`${status} ${code || '(no code)'}`, status !== 500 && NAMED.has(code), Buffer.concat(chunks).toString().slice(0, 120));
      });
      res.on('error', () => finish('response reset', false));
    });
    req.on('timeout', () => {
      req.destroy();
      finish('no answer within 10 s', false);
    });
    req.on('error', (e) => {
      const big = r.body !== undefined && r.body.length > 65536;
      // A server refusing a large body answers and closes while the client still uploads.
      finish(big ? 'closed during a large upload' : `error ${(e as NodeJS.ErrnoException).code ?? e.message}`, big);
    });
    req.end(r.body);
  });
}

async function pool<T>(xs: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, xs.length) }, async () => {
    while (i < xs.length) await f(xs[i++]);
  }));
}

/** The bystander process (scripts/fuzz/bystander.ts). */
class Bystander {
  private constructor(private proc: ChildProcess) {}

  static async start(url: string, room: string): Promise<Bystander> {
    const proc = fork(fileURLToPath(new URL('./bystander.ts', import.meta.url)), [url, room], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the bystander did not start within 20 s')), 20_000);
      proc.once('message', () => (clearTimeout(t), resolve()));
      proc.once('exit', (code) => (clearTimeout(t), reject(new Error(`the bystander exited (${code})`))));
    });
    return new Bystander(proc);
  }

  take(): Promise<BystanderStats> {
    return new Promise((resolve) => {
      this.proc.once('message', (m: { stats: BystanderStats }) => resolve(m.stats));
      this.proc.send({ cmd: 'take' });
    });
  }

  close(): void {
    this.proc.kill();
  }
}
