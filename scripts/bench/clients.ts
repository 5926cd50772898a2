/** The bench's Socket.IO clients: hosts and guests, all in this process, all to 127.0.0.1. */
import { setTimeout as sleep } from 'node:timers/promises';
import { io as connect, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION, type ClientToServerEvents, type ServerToClientEvents } from '../../lib/shared/protocol';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

export const TAB = 'main';

let clientSeq = 0;
export const openClients = new Set<Client>();

export function open(url: string, room: string, wantHost: boolean): Client {
  const s: Client = connect(url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 20_000,
    auth: { v: PROTOCOL_VERSION, room, clientId: `bench-${process.pid}-${++clientSeq}`, wantHost },
  });
  openClients.add(s);
  s.on('disconnect', () => openClients.delete(s));
  return s;
}

export function connected(s: Client): Promise<Client> {
  return new Promise((resolve, reject) => {
    if (s.connected) return resolve(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => reject(new Error(`connect failed: ${e.message}`)));
  });
}

export function once<E extends keyof ServerToClientEvents>(
  s: Client,
  event: E,
  pred: (arg: Parameters<ServerToClientEvents[E]>[0]) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const h = ((arg: Parameters<ServerToClientEvents[E]>[0]) => {
      if (!pred(arg)) return;
      clearTimeout(t);
      s.off(event, h as never);
      resolve(arg);
    }) as never;
    const t = setTimeout(() => {
      s.off(event, h);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    s.on(event, h);
  });
}

/** A host whose term:out sequence numbers start at 1, as a fresh host connection's do. */
export class Host {
  private seq = 0;
  constructor(readonly socket: Client) {}
  out(data: string): void {
    this.socket.emit('term:out', { tab: TAB, seq: ++this.seq, data });
  }
}

export async function openHost(url: string, room: string, tandem: boolean): Promise<Host> {
  const s = open(url, room, true);
  const joined = tandem ? once(s, 'room:state') : null;
  await connected(s);
  if (joined && (await joined).seat !== 'host') throw new Error(`expected to host ${room}`);
  return new Host(s);
}

/** Connects guests in batches (500 simultaneous handshakes would only measure the accept queue).
 * With `tandem`, each also waits for its join snapshot, so join traffic is over before measuring. */
export async function openGuests(url: string, room: string, n: number, batch: number, tandem: boolean): Promise<Client[]> {
  const out: Client[] = [];
  while (out.length < n) {
    const k = Math.min(batch, n - out.length);
    const b = Array.from({ length: k }, () => open(url, room, false));
    await Promise.all(
      b.map(async (g) => {
        const snap = tandem ? once(g, 'term:snapshot') : null;
        await connected(g);
        await snap;
      }),
    );
    out.push(...b);
  }
  return out;
}

export async function closeClients(list: Iterable<Client>): Promise<void> {
  for (const s of list) s.disconnect();
  await sleep(200);
}

