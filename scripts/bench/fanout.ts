/**
 * Fan-out under a chatty program: a host writes `bytesPerSec` of realistic terminal output for
 * `seconds` to `guests` guests (plus one more that reads nothing at all), all raw websockets in this
 * process. Measures the server's CPU, what reached the guests, how long the host's output took to
 * reach a guest, and what the server held for the guest that never reads.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Child } from './child';
import { percentile } from './latency';
import { frameSeq, RawClient } from './rawClient';
import { outputChunks } from './snapshot';

export interface FanoutOptions {
  guests: number;
  seconds: number;
  bytesPerSec: number;
  /** Size of the host's chunks (a VM's serial output reaches the host's page in small pieces). */
  chunkBytes: number;
  batch: number;
}

export interface FanoutResult {
  /** Server CPU (user+sys) over the run, % of one core. */
  serverCpuPct: number;
  /** Terminal output delivered to all guests together, MB/s. */
  mbps: number;
  /** Fraction of (guests × bytes written) that arrived. */
  delivered: number;
  framesPerSec: number;
  /** Host emit → arrival at a watching guest, over every chunk the host wrote. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** Most the server held for the guest that reads nothing (sampled every 100 ms). */
  slowGuestBufferKbMax: number;
  /** The guest that read nothing got a fresh snapshot once it read again. */
  slowGuestResynced: boolean;
}

const isOut = (f: Buffer) => f[4] === 0x74 /* t */ && f[9] === 0x6f; /* 42["term:out" */
const isSnapshot = (f: Buffer) => f[4] === 0x74 && f[9] === 0x73; /* 42["term:snapshot" */

export async function measureFanout(child: Child, o: FanoutOptions): Promise<FanoutResult> {
  const room = await child.call<string>('createRoom', { name: 'bench fanout' });
  const clients: RawClient[] = [];
  try {
    const host = new RawClient(child.url, room, { wantHost: true });
    clients.push(host);
    await host.ready();

    // The watcher parses what it receives: data size per frame, and the host's send times.
    const dataBytes = new Map<number, number>();
    const latencies: number[] = [];
    let watcherChars = 0;
    let watcherSnapshot = false;
    const watcher = new RawClient(child.url, room, {
      onEvent: (f) => {
        if (isSnapshot(f)) watcherSnapshot = true;
        if (!isOut(f)) return;
        const now = performance.now();
        const [, frame] = JSON.parse(f.subarray(2).toString()) as [string, { seq: number; data: string }];
        dataBytes.set(frame.seq, Buffer.byteLength(frame.data));
        watcherChars += frame.data.length;
        for (const m of frame.data.matchAll(/@t=(\d+\.\d+);/g)) latencies.push(now - Number(m[1]));
      },
    });
    clients.push(watcher);

    // The others only note which frames they got (by seq, read from the frame's first bytes).
    const seqs: number[][] = [];
    const joinAll = async (list: { c: RawClient; snap: Promise<void> }[]) => {
      await Promise.all(list.map(async (x) => (await x.c.ready(), await x.snap)));
    };
    const batch: { c: RawClient; snap: Promise<void> }[] = [];
    for (let i = 0; i < o.guests - 1; i++) {
      const got: number[] = [];
      seqs.push(got);
      let joinedNow: () => void = () => {};
      const snap = new Promise<void>((r) => (joinedNow = r));
      const c = new RawClient(child.url, room, {
        onEvent: (f) => {
          if (isOut(f)) got.push(frameSeq(f));
          else if (isSnapshot(f)) joinedNow();
        },
      });
      clients.push(c);
      batch.push({ c, snap });
      if (batch.length === o.batch) await joinAll(batch.splice(0));
    }
    await joinAll(batch);
    await watcher.ready();
    await waitFor(() => watcherSnapshot, 20_000, 'the watcher had no snapshot');

    // One guest that stops reading after it joined.
    let slowSnapshots = 0;
    const slow = new RawClient(child.url, room, { onEvent: (f) => void (isSnapshot(f) && slowSnapshots++) });
    clients.push(slow);
    await slow.ready();
    await waitFor(() => slowSnapshots > 0, 20_000, 'the slow guest had no snapshot');
    slow.pause();

    // ---- the run: the host writes on schedule, stamping each chunk with its send time
    const chunks = outputChunks(o.bytesPerSec * o.seconds, 7, o.chunkBytes);
    let slowMax = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        slowMax = Math.max(slowMax, await child.call<number>('pendingBytes', { sid: slow.sid }));
        await sleep(100);
      }
    })();
    const cpu0 = await child.call<NodeJS.CpuUsage>('cpu');
    const t0 = performance.now();
    let sentBytes = 0;
    let sentChars = 0;
    for (let i = 0; i < chunks.length; i++) {
      const due = t0 + (sentBytes / o.bytesPerSec) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const data = `@t=${performance.now().toFixed(3)};\r\n${chunks[i]}`;
      host.emit('term:out', { tab: 'main', seq: i + 1, data });
      sentBytes += Buffer.byteLength(data);
      sentChars += data.length;
    }
    // Drained: the watcher has everything, and every guest the frames the watcher has.
    const until = performance.now() + 15_000;
    while (watcherChars < sentChars && performance.now() < until) await sleep(10);
    const last = Math.max(0, ...dataBytes.keys());
    while (seqs.some((s) => s.length > 0 && s[s.length - 1] < last) && performance.now() < until) await sleep(10);
    const wallMs = performance.now() - t0;
    const cpu1 = await child.call<NodeJS.CpuUsage>('cpu');
    sampling = false;
    await sampler;

    let delivered = 0;
    for (const v of dataBytes.values()) delivered += v; // the watcher's
    for (const s of seqs) for (const q of s) delivered += dataBytes.get(q) ?? 0;

    // The slow guest reads again: it must be resynced from a snapshot, not replayed.
    const before = slowSnapshots;
    slow.resume();
    const resyncUntil = performance.now() + 10_000;
    while (slowSnapshots === before && performance.now() < resyncUntil) await sleep(20);

    const lat = latencies.sort((a, b) => a - b);
    return {
      serverCpuPct: ((cpu1.user + cpu1.system - cpu0.user - cpu0.system) / 1000 / wallMs) * 100,
      mbps: delivered / (wallMs / 1000) / 1e6,
      delivered: delivered / (o.guests * sentBytes),
      framesPerSec: last / (wallMs / 1000),
      latencyP50Ms: percentile(lat, 50),
      latencyP99Ms: percentile(lat, 99),
      latencyMaxMs: lat.length ? lat[lat.length - 1] : NaN,
      slowGuestBufferKbMax: slowMax / 1024,
      slowGuestResynced: slowSnapshots > before,
    };
  } finally {
    for (const c of clients) c.close();
    await sleep(200);
  }
}

async function waitFor(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > end) throw new Error(`fan-out: ${what} within ${timeoutMs} ms`);
    await sleep(5);
  }
}
