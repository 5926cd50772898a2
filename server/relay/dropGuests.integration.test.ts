import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import headless from '@xterm/headless';
import { next, startServer, type ClientSocket } from '../testing/startServer';
import { io } from 'socket.io-client';
import { TermStream } from '../../lib/browser/client/TermStream';
import { PROTOCOL_VERSION } from '../../lib/shared/protocol';

const { Terminal } = headless as unknown as typeof import('@xterm/headless');
type Term = InstanceType<typeof Terminal>;

/**
 * Chaos: guests' connections drop (cleanly or by a dead transport) and come back at random while
 * the host streams output. Each guest runs the page's own stream logic (TermStream: snapshot, then
 * frames strictly in sequence, resync on a gap); at the end every guest's terminal holds every line
 * exactly once, in order.
 */
let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  srv = await startServer({ HEADLESS: 'off' });
});
afterAll(async () => {
  await srv?.close();
});

/** A small seeded generator: a failing run can be replayed with the seed it prints. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

class Guest {
  term: Term = new Terminal({ cols: 80, rows: 24, scrollback: 2000, allowProposedApi: true });
  socket!: ClientSocket;
  stream!: TermStream;
  reconnects = 0;

  constructor(private room: string) {}

  async connect(): Promise<void> {
    // Listeners go on before connecting: the join snapshot can come right behind the handshake.
    const s: ClientSocket = io(srv.url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      autoConnect: false,
      auth: { v: PROTOCOL_VERSION, room: this.room, clientId: `guest-${Math.random().toString(36).slice(2, 12)}`, wantHost: false },
    });
    // A fresh connection is a fresh view of the stream, as a reloaded page has.
    const stream = new TermStream(
      { reset: () => this.term.reset(), write: (d) => this.term.write(d), resize: (c, r) => this.term.resize(c, r) },
      () => s.emit('term:sync', { tab: 'main' }),
    );
    s.on('term:snapshot', (snap) => snap.tab === 'main' && stream.snapshot(snap));
    s.on('term:out', (f) => f.tab === 'main' && stream.out(f));
    this.socket = s;
    this.stream = stream;
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
      s.connect();
    });
  }

  /** Drops the connection, cleanly or by killing its transport, and connects again. */
  async drop(hard: boolean): Promise<void> {
    const old = this.socket;
    if (hard) (old.io.engine as unknown as { transport: { ws?: { terminate(): void } } }).transport.ws?.terminate();
    old.disconnect();
    this.reconnects++;
    await this.connect();
  }

  lines(): Promise<string[]> {
    return new Promise((resolve) =>
      this.term.write('', () => {
        const b = this.term.buffer.active;
        const out: string[] = [];
        for (let i = 0; i < b.length; i++) out.push(b.getLine(i)!.translateToString(true));
        resolve(out.filter((l) => l !== ''));
      }),
    );
  }
}

describe('guests dropping and coming back during output (chaos)', () => {
  it('every guest ends with every line exactly once, in order', async () => {
    const seed = Date.now() % 100_000;
    const rnd = random(seed);
    const room = srv.server.rooms.create('chaos').id;
    const host = await srv.client(room);
    expect((await next(host, 'room:state')).seat).toBe('host');
    const guests = [new Guest(room), new Guest(room), new Guest(room)];
    for (const g of guests) await g.connect();

    const LINES = 600;
    let seq = 0;
    let chaos = true;
    const dropping = (async () => {
      while (chaos) {
        await new Promise((r) => setTimeout(r, 40 + rnd() * 120));
        if (!chaos) break;
        await guests[Math.floor(rnd() * guests.length)].drop(rnd() < 0.5);
      }
    })();
    for (let i = 1; i <= LINES; i++) {
      host.emit('term:out', { tab: 'main', seq: ++seq, data: `line ${i}\r\n` });
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 15));
    }
    chaos = false;
    await dropping;

    const expected = Array.from({ length: LINES }, (_, i) => `line ${i + 1}`);
    const deadline = Date.now() + 8000;
    for (const g of guests) {
      // Guests count the relay's frames, not the host's chunks (output is coalesced): wait for the last line.
      let lines = await g.lines();
      while (lines.at(-1) !== `line ${LINES}` && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        lines = await g.lines();
      }
      // The snapshot carries the last SNAPSHOT_SCROLLBACK_LINES of history: compare what it covers.
      expect(lines, `seed ${seed}, ${g.reconnects} reconnects`).toEqual(expected.slice(expected.length - lines.length));
      expect(lines.length).toBeGreaterThanOrEqual(Math.min(LINES, 400));
    }
    expect(guests.reduce((n, g) => n + g.reconnects, 0)).toBeGreaterThan(3);
    host.disconnect();
    for (const g of guests) g.socket.disconnect();
  });
});
