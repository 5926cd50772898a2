/** Fan-out latency: a host's keystroke echoes timed at every guest, relay and floor interleaved. */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OutFrame } from '../../lib/shared/protocol';
import type { Child } from './child';
import type { Client, Host } from './clients';

/** Latency samples and CPU accumulated over one or more rounds against one server. */
export class LatencyRun {
  samples: number[] = [];
  /** Per message: last guest's arrival minus first guest's, i.e. how long one fan-out takes end to end. */
  spreads: number[] = [];
  expected = 0;
  serverCpuUs = 0;
  clientCpuUs = 0;
  messages = 0;
  private rounds = 0;
  /** Message ids are unique across rounds, so a straggler from an earlier round is never miscounted. */
  private static nextId = 0;

  constructor(
    readonly child: Child,
    readonly host: Host,
    readonly guests: Client[],
  ) {}

  /**
   * One round: the host emits `warmup + messages` keystroke echoes `intervalMs` apart, each carrying
   * its id in `data`; every guest records arrival minus send time (one process, one clock). The
   * first round of a run warms up longer.
   */
  async round(o: { messages: number; warmup: number; intervalMs: number }): Promise<void> {
    const warmup = this.rounds++ === 0 ? o.warmup : Math.min(5, o.warmup);
    const total = warmup + o.messages;
    const base = LatencyRun.nextId;
    LatencyRun.nextId += total;
    const G = this.guests.length;
    const sentAt = new Float64Array(total);
    const lat = new Float64Array(G * o.messages).fill(NaN);
    let received = 0;
    let allIn: () => void = () => {};
    const done = new Promise<void>((r) => (allIn = r));
    const handlers = this.guests.map((g, i) => {
      const h = (f: OutFrame) => {
        const now = performance.now();
        const id = Number.parseInt(f.data, 36) - base;
        if (!(id >= 0 && id < total)) return;
        if (id >= warmup) lat[(id - warmup) * G + i] = now - sentAt[id];
        if (++received === total * G) allIn();
      };
      g.on('term:out', h);
      return h;
    });

    let cpu0: NodeJS.CpuUsage | null = null;
    let ccpu0: NodeJS.CpuUsage | null = null;
    for (let id = 0; id < total; id++) {
      if (id === warmup) {
        cpu0 = await this.child.call<NodeJS.CpuUsage>('cpu');
        ccpu0 = process.cpuUsage();
      }
      sentAt[id] = performance.now();
      // A keystroke echo: the message id in base 36 and a space, a few characters.
      this.host.out(`${(base + id).toString(36)} `);
      if (o.intervalMs > 0) await sleep(o.intervalMs);
      else await new Promise((r) => setImmediate(r));
    }
    await Promise.race([done, sleep(10_000)]);
    const ccpu = process.cpuUsage(ccpu0!);
    const cpu1 = await this.child.call<NodeJS.CpuUsage>('cpu');
    this.guests.forEach((g, i) => g.off('term:out', handlers[i]));

    for (const x of lat) if (!Number.isNaN(x)) this.samples.push(x);
    if (G > 1)
      for (let k = 0; k < o.messages; k++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = k * G; i < (k + 1) * G; i++) {
          if (lat[i] < lo) lo = lat[i];
          if (lat[i] > hi) hi = lat[i];
        }
        if (hi >= lo) this.spreads.push(hi - lo);
      }
    this.expected += G * o.messages;
    this.messages += o.messages;
    this.serverCpuUs += cpu1.user + cpu1.system - (cpu0!.user + cpu0!.system);
    this.clientCpuUs += ccpu.user + ccpu.system;
  }

  result() {
    const s = [...this.samples].sort((a, b) => a - b);
    return {
      p50: percentile(s, 50),
      p99: percentile(s, 99),
      max: s.length ? s[s.length - 1] : NaN,
      spread: this.spreads.length ? median(this.spreads) : 0,
      delivered: s.length / this.expected, // fraction of guest×message deliveries that arrived
      serverCpuUsPerMsg: this.serverCpuUs / this.messages, // server CPU (user+sys) per relayed message
      clientCpuUsPerMsg: this.clientCpuUs / this.messages, // this process (the guests' receiving side)
    };
  }
}

/**
 * Relay and floor measured in alternating rounds (R F F R R F …) with the same clients process, so
 * drift in machine load (this box may be shared) falls on both alike and their ratio stays fair.
 */
export async function interleave(runs: [LatencyRun, LatencyRun], o: { messages: number; warmup: number; intervalMs: number; rounds: number }) {
  const per = Math.ceil(o.messages / o.rounds);
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? runs : [runs[1], runs[0]];
    for (const run of order) await run.round({ ...o, messages: per });
  }
  return runs.map((r) => r.result());
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1; // nearest rank
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

