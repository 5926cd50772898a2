import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { loadEnv } from '../env';
import { createTandemServer, type NextHandler, type TandemServer } from '../app';
import type { NetLimits } from '../net/NetHub';
import { PROTOCOL_VERSION, type ClientToServerEvents, type ServerToClientEvents } from '../../lib/shared/protocol';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * A real Tandem server (no Next) on port 0 with its own SQLite file in a temp dir, or in `dataDir`
 * (kept on close, so a test can start another server on it: a restart).
 */
export async function startServer(
  extraEnv: Record<string, string> = {},
  opts: { dataDir?: string; netLimits?: Partial<NetLimits>; /** Answers what Next would (pages), for tests that need a page. */ next?: NextHandler } = {},
) {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-it-'));
  // DISK_SOURCE=none: tests see the same small guest whether or not this machine built the disk.
  // HANDOVER_WAIT_SECONDS=0: hosts leave rooms with guests in them all through these tests; a headless
  // Chromium stepping into each would change what they test (and cost a VM boot each). The headless
  // host stays on (HEADLESS=auto) for tests that ask for it: queued commands, always-on, chaos; a
  // handover test sets the wait itself. (NODE_ENV=test also leaves BOOT_SNAPSHOT_WARM=auto off.)
  const env = loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', DISK_SOURCE: 'none', HANDOVER_WAIT_SECONDS: '0', ...extraEnv });
  const server: TandemServer = createTandemServer(env, { next: opts.next, netLimits: opts.netLimits });
  const port = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const sockets: ClientSocket[] = [];
  return {
    server,
    url,
    dataDir,
    /** Connects a Socket.IO client; resolves once connected (or rejects with the connect error). */
    client(room: string, opts: { v?: number; clientId?: string; wantHost?: boolean; hostToken?: string; cookie?: string; origin?: string; headers?: Record<string, string> } = {}): Promise<ClientSocket> {
      const s: ClientSocket = connect(url, {
        path: '/socket.io',
        transports: ['websocket'],
        extraHeaders: { ...opts.headers, ...(opts.cookie ? { cookie: opts.cookie } : {}), ...(opts.origin ? { origin: opts.origin } : {}) },
        reconnection: false,
        forceNew: true,
        auth: { v: opts.v ?? PROTOCOL_VERSION, room, clientId: opts.clientId ?? `c-${Math.random().toString(36).slice(2, 12)}`, wantHost: opts.wantHost ?? true, hostToken: opts.hostToken },
      });
      sockets.push(s);
      record(s);
      return new Promise((resolve, reject) => {
        s.once('connect', () => resolve(s));
        s.once('connect_error', (e) => reject(e));
      });
    },
    /** Disconnects every client made so far (between tests: a failed test leaves no host behind). */
    disconnectAll() {
      for (const s of sockets.splice(0)) s.disconnect();
    },
    async close() {
      for (const s of sockets) s.disconnect();
      await server.close();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

type Arrival = { event: string; arg: unknown };
const inboxes = new WeakMap<ClientSocket, { queue: Arrival[]; waiters: (() => void)[] }>();

/** Keeps every event a socket receives from the moment it is created, so none is missed between awaits. */
function record(s: ClientSocket): void {
  const box = { queue: [] as Arrival[], waiters: [] as (() => void)[] };
  inboxes.set(s, box);
  s.onAny((event: string, arg: unknown) => {
    box.queue.push({ event, arg });
    for (const w of box.waiters.splice(0)) w();
  });
}

type Arg<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];

/** Resolves with the oldest not yet taken event of that name. */
export function next<E extends keyof ServerToClientEvents>(s: ClientSocket, event: E, timeoutMs = 5000): Promise<Arg<E>> {
  return nextWhere(s, event, () => true, timeoutMs);
}

/**
 * Resolves with the first not yet taken event of that name that `match` accepts; the ones of that
 * name before it are taken too (e.g. the room's coalesced broadcasts before the state sent to me).
 */
export function nextWhere<E extends keyof ServerToClientEvents>(s: ClientSocket, event: E, match: (arg: Arg<E>) => boolean, timeoutMs = 5000): Promise<Arg<E>> {
  const box = inboxes.get(s)!;
  return new Promise((resolve, reject) => {
    let expired = false;
    const t = setTimeout(() => {
      // A waiter that gave up must not take a later event meant for the next waiter.
      expired = true;
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const look = () => {
      if (expired) return;
      for (let i = 0; i < box.queue.length; i++) {
        const a = box.queue[i];
        if (a.event !== event) continue;
        box.queue.splice(i--, 1);
        if (!match(a.arg as Arg<E>)) continue;
        clearTimeout(t);
        return resolve(a.arg as Arg<E>);
      }
      box.waiters.push(look);
    };
    look();
  });
}
