/**
 * `npm run soak [-- --minutes 10] [--rooms 50] [--sockets 1000] [--kb-per-s-per-room 8]`
 *
 * Holds the real Tandem server (a child process: scripts/bench/server.ts, loopback, a temporary
 * DATA_DIR) under steady load: `sockets` connections over `rooms` rooms, in each a host writing
 * output and answering its guests' typing with an echo, as a shell would, and a few guests leaving
 * and coming back every few seconds (the join and leave paths are where per-peer state leaks).
 * Each minute prints the server's RSS and heap (after a full GC), its event-loop delay p99 and what
 * was delivered; at the end the memory slope over the run. Exits 1 on a leak (the heap still
 * growing by more than LEAK_MB_PER_MIN after the first minute's warm-up) or if delivery stopped.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child } from '../bench/child';
import { numericArgs, runMain } from '../bench/cli';
import type { MemoryReport } from '../bench/ipc';
import { RawClient } from '../bench/rawClient';
import { outputChunks } from '../bench/snapshot';

/** Heap growth per minute (least-squares slope after the first minute) that counts as a leak. */
export const LEAK_MB_PER_MIN = 1;
/** Guests that leave and rejoin every CHURN_EVERY_MS, across all rooms. */
const CHURN_GUESTS = 10;
const CHURN_EVERY_MS = 5000;
/** Each room has one guest typing, one key per this interval (a typist at ~5 keys/s). */
const KEY_EVERY_MS = 200;
const OUTPUT_EVERY_MS = 100;

function parseArgs(argv: string[]) {
  const o = numericArgs(
    argv,
    { minutes: 10, rooms: 50, sockets: 1000, kbPerSecPerRoom: 8 },
    { '--minutes': 'minutes', '--rooms': 'rooms', '--sockets': 'sockets', '--kb-per-s-per-room': 'kbPerSecPerRoom' },
    'npm run soak -- [--minutes 10] [--rooms 50] [--sockets 1000] [--kb-per-s-per-room 8]',
  );
  if (!(o.minutes >= 1 && o.minutes <= 240)) throw new Error('--minutes must be 1..240');
  if (!(o.rooms >= 1 && o.rooms <= 500)) throw new Error('--rooms must be 1..500');
  if (!(o.sockets >= 2 * o.rooms && o.sockets <= 5000)) throw new Error('--sockets must be 2×rooms..5000');
  if (!(o.kbPerSecPerRoom > 0 && o.kbPerSecPerRoom <= 1024)) throw new Error('--kb-per-s-per-room must be in (0, 1024]');
  return o;
}

interface Room {
  id: string;
  host: RawClient;
  hostSeq: number;
  guests: RawClient[];
  chunk: number;
}

const counts = { frames: 0, keys: 0, echoes: 0, rejoins: 0 };
const isOut = (f: Buffer) => f[4] === 0x74 && f[9] === 0x6f; /* 42["term:out" */
const isIn = (f: Buffer) => f[4] === 0x74 && f[9] === 0x69; /* 42["term:in" */

async function guest(url: string, room: string): Promise<RawClient> {
  const g = new RawClient(url, room, { onEvent: (f) => void (isOut(f) && counts.frames++) });
  await g.ready();
  return g;
}

/** Least-squares slope of ys over xs. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const child = await Child.start('tandem server', 'server.ts', { quiet: true });
  const MB = 1024 * 1024;
  const perRoom = Math.floor(o.sockets / o.rooms);
  log(`Tandem soak: ${o.rooms} rooms × ${perRoom} sockets (1 host + ${perRoom - 1} guests), ${o.kbPerSecPerRoom} KB/s of output per room, ` +
    `one typist per room (a key every ${KEY_EVERY_MS} ms, echoed by the host), ${CHURN_GUESTS} guests rejoining every ${CHURN_EVERY_MS / 1000} s, ${o.minutes} min, node ${process.version}`);

  // ---- connect everyone
  const output = outputChunks(64 * 1024, 3, Math.max(16, Math.round((o.kbPerSecPerRoom * 1024 * OUTPUT_EVERY_MS) / 1000)));
  const rooms: Room[] = [];
  for (let r = 0; r < o.rooms; r++) {
    const id = await child.call<string>('createRoom', { name: `soak ${r}` });
    const room: Room = { id, host: null as unknown as RawClient, hostSeq: 0, guests: [], chunk: r };
    // The host echoes every key it is sent, as the shell's line discipline does.
    room.host = new RawClient(child.url, id, {
      wantHost: true,
      onEvent: (f) => {
        if (!isIn(f)) return;
        const [, k] = JSON.parse(f.subarray(2).toString()) as [string, { data: string }];
        counts.echoes++;
        room.host.emit('term:out', { tab: 'main', seq: ++room.hostSeq, data: k.data });
      },
    });
    await room.host.ready();
    room.guests = await Promise.all(Array.from({ length: perRoom - 1 }, () => guest(child.url, id)));
    rooms.push(room);
  }
  log(`connected ${rooms.length * perRoom} sockets`);

  // ---- steady load
  const outputTimer = setInterval(() => {
    for (const room of rooms) room.host.emit('term:out', { tab: 'main', seq: ++room.hostSeq, data: output[room.chunk++ % output.length] });
  }, OUTPUT_EVERY_MS);
  const keyTimer = setInterval(() => {
    for (const room of rooms) {
      counts.keys++;
      room.guests[0]?.emit('term:in', { tab: 'main', data: 'k' });
    }
  }, KEY_EVERY_MS);
  let churning = false;
  let stopping = false;
  const churnTimer = setInterval(async () => {
    if (churning || stopping) return;
    churning = true;
    try {
      for (let i = 0; i < CHURN_GUESTS; i++) {
        const room = rooms[Math.floor(Math.random() * rooms.length)];
        const k = 1 + Math.floor(Math.random() * (room.guests.length - 1)); // never the typist
        room.guests[k]?.close();
        room.guests[k] = await guest(child.url, room.id);
        counts.rejoins++;
      }
    } catch (e) {
      if (!stopping) throw e;
    } finally {
      churning = false;
    }
  }, CHURN_EVERY_MS);

  // ---- a line a minute
  const minutes: number[] = [];
  const heap: number[] = [];
  const rss: number[] = [];
  const started = performance.now();
  let last = { ...counts };
  let stalled = false;
  await child.call('loop'); // resets the delay histogram: the connect phase is not the soak
  for (let m = 1; m <= o.minutes; m++) {
    await sleep(Math.max(0, started + m * 60_000 - performance.now()));
    const [mem, loop] = await Promise.all([child.call<MemoryReport>('memory'), child.call<{ p99Ms: number; maxMs: number }>('loop')]);
    minutes.push(m);
    heap.push(mem.heapUsed / MB);
    rss.push(mem.rss / MB);
    const d = { frames: counts.frames - last.frames, keys: counts.keys - last.keys, echoes: counts.echoes - last.echoes, rejoins: counts.rejoins - last.rejoins };
    last = { ...counts };
    if (d.frames === 0 || d.echoes === 0) stalled = true;
    log(
      `minute ${String(m).padStart(3)}: rss ${(mem.rss / MB).toFixed(1)} MB, heap ${(mem.heapUsed / MB).toFixed(1)} MB, ` +
        `event-loop delay p99 ${loop.p99Ms.toFixed(1)} ms (max ${loop.maxMs.toFixed(0)} ms), ` +
        `${d.frames} frames received, ${d.keys} keys typed, ${d.echoes} echoed, ${d.rejoins} rejoins`,
    );
  }
  stopping = true;
  clearInterval(outputTimer);
  clearInterval(keyTimer);
  clearInterval(churnTimer);
  while (churning) await sleep(10);
  for (const room of rooms) for (const c of [room.host, ...room.guests]) c.close();
  await child.stop();

  // Slopes after the first minute (caches, JIT and pools warm up during it).
  const from = minutes.length > 2 ? 1 : 0;
  const heapSlope = slope(minutes.slice(from), heap.slice(from));
  const rssSlope = slope(minutes.slice(from), rss.slice(from));
  log(`memory slope (minutes ${minutes[from]}..${o.minutes}): heap ${heapSlope >= 0 ? '+' : ''}${heapSlope.toFixed(2)} MB/min, rss ${rssSlope >= 0 ? '+' : ''}${rssSlope.toFixed(2)} MB/min`);
  const bad: string[] = [];
  if (minutes.length > 2 && heapSlope > LEAK_MB_PER_MIN) bad.push(`heap grows ${heapSlope.toFixed(2)} MB/min (leak threshold ${LEAK_MB_PER_MIN})`);
  if (stalled) bad.push('a minute passed with no output or no echo delivered');
  log(bad.length ? `FAILED: ${bad.join('; ')}` : 'no leak: the heap is flat under steady load.');
  process.exitCode = bad.length ? 1 : 0;
}

// Bounded whatever happens: the run's minutes, plus time to connect and to stop.
runMain('soak', main, (parseArgs(process.argv.slice(2)).minutes + 5) * 60_000);
