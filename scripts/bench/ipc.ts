/** The bench server's API key (loopback only, a throwaway data dir). */
export const BENCH_API_KEY = 'bench-api-key';

/**
 * Child side of the benchmark's IPC: the bench (parent) forks a server child and sends it
 * `{ id, cmd, args }`; the child answers `{ id, ok, result | error }`. A child announces itself
 * with `{ type: 'ready', port }` and exits when the parent goes away or signals it.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

export interface Request {
  id: number;
  cmd: string;
  args?: Record<string, unknown>;
}

export interface MemoryReport {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Memory after two full collections (the child runs with --expose-gc), so RSS is not inflated by garbage. */
export async function memory(): Promise<MemoryReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 2; i++) {
    gc?.();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

export function serveIpc(port: number, handlers: Handlers, cleanup: () => void): void {
  if (!process.send) throw new Error('run me with child_process.fork (needs an IPC channel)');
  const all: Handlers = {
    memory: () => memory(),
    cpu: () => process.cpuUsage(),
    ...handlers,
  };
  process.on('message', async (m: Request) => {
    try {
      const h = all[m.cmd];
      if (!h) throw new Error(`unknown command ${m.cmd}`);
      const result = await h(m.args ?? {});
      process.send!({ id: m.id, ok: true, result });
    } catch (e) {
      process.send!({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
  let done = false;
  const exit = () => {
    if (done) return;
    done = true;
    try {
      cleanup();
    } finally {
      process.exit(0);
    }
  };
  process.on('disconnect', exit); // the bench died or finished: never outlive it
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.send({ type: 'ready', port, pid: process.pid });
}
