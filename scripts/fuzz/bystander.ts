/**
 * The fuzz's bystander, in its own process so the fuzzer's own work never shows up as latency: a
 * quiet room whose host echoes to its guest every 100 ms. Started by runFuzz with
 * `fork(…, { execArgv: ['--import', 'tsx'] })` and argv [url, room]; answers `take` over IPC with
 * the latency since the last take; exits when its parent goes.
 */
import { performance } from 'node:perf_hooks';
import { io as connect, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION, type ClientToServerEvents, type ServerToClientEvents } from '../../lib/shared/protocol';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
export interface BystanderStats {
  p50: number;
  p99: number;
  max: number;
  /** Echoes not back within 2 s. */
  lost: number;
}

const [url, room] = process.argv.slice(2);
const open = (clientId: string, wantHost: boolean): Client =>
  connect(url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, auth: { v: PROTOCOL_VERSION, room, clientId, wantHost } });

const host = open(`bystander-host-${process.pid}`, true);
await new Promise<void>((r) => host.once('connect', () => r()));
const guest = open(`bystander-guest-${process.pid}`, false);
await new Promise((r) => guest.once('term:snapshot', r));

const samples: number[] = [];
const sentAt = new Map<number, number>();
guest.on('term:out', (f) => {
  const now = performance.now();
  for (const m of f.data.matchAll(/p(\d+);/g)) {
    const t = sentAt.get(Number(m[1]));
    if (t === undefined) continue;
    samples.push(now - t);
    sentAt.delete(Number(m[1]));
  }
});
let seq = 0;
setInterval(() => {
  sentAt.set(++seq, performance.now());
  host.emit('term:out', { tab: 'main', seq, data: `p${seq};` });
}, 100);

function take(): BystanderStats {
  const s = samples.splice(0).sort((a, b) => a - b);
  const now = performance.now();
  let lost = 0;
  for (const [k, t] of sentAt)
    if (now - t > 2000) {
      lost++;
      sentAt.delete(k);
    }
  const pct = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN);
  return { p50: pct(50), p99: pct(99), max: s.length ? s[s.length - 1] : NaN, lost };
}

process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'take') process.send!({ stats: take() });
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
