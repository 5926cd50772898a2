/**
 * Benchmark child: the real Tandem server (createTandemServer, no Next) on 127.0.0.1, port 0, with a
 * temporary DATA_DIR. Runs in its own process so its RSS excludes the bench's client sockets.
 * Started by scripts/bench/index.ts with `node --import tsx --expose-gc`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadEnv } from '../../server/env';
import { BENCH_API_KEY } from './ipc';
import { createTandemServer } from '../../server/app';
import { serveIpc } from './ipc';

// The bench owns the directory (and removes it too, in case this process is killed outright).
const dataDir = process.env.BENCH_DATA_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-'));
const removeDataDir = () => fs.rmSync(dataDir, { recursive: true, force: true });
process.on('exit', removeDataDir);

const env = loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', API_KEY: BENCH_API_KEY, HEADLESS: 'off' });
const srv = createTandemServer(env);
const port = await srv.listen(0, '127.0.0.1');

// Count relayed output chunks per room (the hub's 'output' event fires once the relay has taken a
// chunk: mirror write queued, guests sent), so the bench knows when its writes have arrived
// without asking for a snapshot, which would warm the mirror's cache.
const outputs = new Map<string, number>();
const waiters: (() => void)[] = [];
srv.hub.events.on('output', (room) => {
  outputs.set(room, (outputs.get(room) ?? 0) + 1);
  for (const w of waiters.splice(0)) w();
});

function waitOutputs(room: string, count: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`room ${room}: ${outputs.get(room) ?? 0}/${count} outputs after ${timeoutMs} ms`)), timeoutMs);
    const look = () => {
      const n = outputs.get(room) ?? 0;
      if (n >= count) {
        clearTimeout(t);
        resolve(n);
      } else waiters.push(look);
    };
    look();
  });
}

serveIpc(
  port,
  {
    createRoom: ({ name }) => srv.rooms.create(String(name)).id,
    waitOutputs: ({ room, count, timeoutMs }) => waitOutputs(String(room), Number(count), Number(timeoutMs ?? 30_000)),
    /** Times RoomRelay.snapshot(): waits for queued writes to be parsed, then serializes (or hits the cache). */
    snapshot: async ({ room }) => {
      const relay = srv.hub.relay(String(room));
      if (!relay) throw new Error(`no relay for room ${room}`);
      const t0 = performance.now();
      const s = await relay.snapshot();
      const ms = performance.now() - t0;
      return { ms, seq: s.seq, bytes: s.data.length };
    },
    peers: ({ room }) => srv.hub.relay(String(room))?.size ?? 0,
    /** Resolves once the room has at most `count` peers (polled: departures have no event). */
    peersAtMost: async ({ room, count, timeoutMs }) => {
      const until = Date.now() + Number(timeoutMs ?? 30_000);
      for (;;) {
        const n = srv.hub.relay(String(room))?.size ?? 0;
        if (n <= Number(count)) return n;
        if (Date.now() > until) throw new Error(`room ${room} still has ${n} peers`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  },
  () => {
    srv.http.closeAllConnections();
    removeDataDir();
  },
);
