/** Snapshot cost after realistic terminal output (coloured `ls`, compiler and test-runner lines). */
import { performance } from 'node:perf_hooks';
import { MAX_OUTPUT_CHUNK_BYTES, type Snapshot } from '../../lib/shared/protocol';
import type { Child } from './child';
import { once, open, openHost } from './clients';
import { median } from './latency';

function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the build step module error warning compile linking object source header test passed failed ' +
  'running cargo npm install package lib include usr local bin src main index config kernel device ' +
  'network socket buffer request response cache token value return function class struct'
).split(' ');

/** Lines such as `ls --color`, compilers and test runners print: text with SGR colour codes. */
function outputLine(r: () => number, n: number): string {
  const pick = <T,>(a: T[]) => a[Math.floor(r() * a.length)];
  const words = (k: number) => Array.from({ length: k }, () => pick(WORDS)).join(' ');
  switch (n % 6) {
    case 0:
      return `\x1b[01;34m${pick(WORDS)}\x1b[0m  \x1b[01;32m${pick(WORDS)}.sh\x1b[0m  ${pick(WORDS)}.txt  \x1b[01;34m${pick(WORDS)}\x1b[0m  ${pick(WORDS)}.c`;
    case 1:
      return `\x1b[1m\x1b[32m   Compiling\x1b[0m ${pick(WORDS)}-${pick(WORDS)} v0.${Math.floor(r() * 20)}.${Math.floor(r() * 9)}`;
    case 2:
      return `${pick(WORDS)}/${pick(WORDS)}.c:${Math.floor(r() * 900) + 1}:${Math.floor(r() * 80) + 1}: \x1b[01;35mwarning:\x1b[0m ${words(6)}`;
    case 3:
      return `\x1b[32m✓\x1b[0m ${words(4)} \x1b[2m(${Math.floor(r() * 300)} ms)\x1b[0m`;
    case 4:
      return `\x1b[01;32muser@tandem\x1b[00m:\x1b[01;34m~/${pick(WORDS)}\x1b[00m$ ${pick(WORDS)} ${pick(WORDS)}`;
    default:
      return words(8 + Math.floor(r() * 6));
  }
}

/** About `bytes` of output as chunks of at most MAX_OUTPUT_CHUNK_BYTES, cut at line ends. */
export function outputChunks(bytes: number, seed: number): string[] {
  const r = rng(seed);
  const chunks: string[] = [];
  let cur = '';
  let total = 0;
  for (let n = 0; total < bytes; n++) {
    const line = outputLine(r, n) + '\r\n';
    if (cur.length + line.length > MAX_OUTPUT_CHUNK_BYTES) {
      chunks.push(cur);
      cur = '';
    }
    cur += line;
    total += Buffer.byteLength(line);
  }
  if (cur) chunks.push(cur);
  return chunks;
}

export interface SnapshotResult {
  serverMs: number; // median RoomRelay.snapshot() time in the server, cache cold
  joinMs: number; // median connect() → term:snapshot at a late joiner, cache cold
  bytes: number; // serialized snapshot size
  feedMs: number; // time for the server to take and parse the whole history
}

/**
 * A fresh room; its host writes `bytes` of output; then, `reps` times: one keystroke echo (so the
 * mirror's cached snapshot is stale, as it is when output is flowing) and a timed
 * RoomRelay.snapshot() in the server; and again an echo and a real late joiner timed from connect
 * to its term:snapshot.
 */
export async function measureSnapshot(child: Child, bytes: number, reps: number): Promise<SnapshotResult> {
  const room = await child.call<string>('createRoom', { name: `bench ${bytes}` });
  const host = await openHost(child.url, room, true);
  const chunks = outputChunks(bytes, bytes);
  const t0 = performance.now();
  for (const c of chunks) host.out(c);
  let outputs = chunks.length;
  await child.call('waitOutputs', { room, count: outputs, timeoutMs: 60_000 }, 65_000);
  await child.call('snapshot', { room }); // drains the mirror's parse queue: history fully in
  const feedMs = performance.now() - t0;

  const server: number[] = [];
  const join: number[] = [];
  let size = 0;
  for (let i = 0; i < reps; i++) {
    host.out('l');
    await child.call('waitOutputs', { room, count: ++outputs });
    const s = await child.call<{ ms: number; bytes: number }>('snapshot', { room });
    server.push(s.ms);
    size = s.bytes;

    host.out('s');
    await child.call('waitOutputs', { room, count: ++outputs });
    const j0 = performance.now();
    const late = open(child.url, room, false);
    const snap: Snapshot = await once(late, 'term:snapshot');
    join.push(performance.now() - j0);
    if (snap.seq !== outputs) throw new Error(`late joiner got seq ${snap.seq}, expected ${outputs}`);
    late.disconnect();
  }
  host.socket.disconnect();
  return { serverMs: median(server), joinMs: median(join), bytes: size, feedMs };
}

