import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { PROTOCOL_VERSION, type ClientToServerEvents, type ServerToClientEvents } from '../../lib/shared/protocol';
import { TermStream } from '../../lib/browser/client/TermStream';
import { startServer } from '../testing/startServer';
import { as, signUp } from '../testing/accounts';
import { call } from '../testing/http';
import { parseCastText } from '../testing/castReplay';
import { freePort } from '../testing/freePort';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
const ROOT = path.resolve(import.meta.dirname, '../..');
const API_KEY = 'restart-test-key-0123456789';
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** The real server in its own process (no Next), on a fixed port and DATA_DIR. */
async function spawnServer(dataDir: string, port: number): Promise<{ proc: ChildProcess; readyAt: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/testing/serverMain.ts')], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', DISK_SOURCE: 'none', HEADLESS: 'off', API_KEY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanup.push(() => proc.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server did not start in 20 s')), 20_000);
    proc.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('LISTENING')) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  return { proc, readyAt: Date.now() };
}

function client(url: string, room: string, clientId: string, resume?: () => Record<string, number> | undefined): Client {
  const s: Client = connect(url, {
    path: '/socket.io',
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: 300,
    reconnectionDelayMax: 1000,
    auth: (cb) => cb({ v: PROTOCOL_VERSION, room, clientId, wantHost: true, resume: resume?.() }),
  });
  cleanup.push(() => s.disconnect());
  return s;
}

const until = async (ok: () => boolean, what: string, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('kill -9 and restart', () => {
  it('keeps rooms, members, invites, commands, notes and recordings; clients reconnect and resume without duplicated or missing output', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-restart-'));
    cleanup.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    // Accounts made through the real routes (in-process, same DATA_DIR), then the server process takes over.
    const setup = await startServer({}, { dataDir });
    const owner = await signUp(setup, 'Owner');
    const room = (await as(setup, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'class' } })).json.room;
    const invite = (await as(setup, owner.cookie, `/api/rooms/${room.id}/invites`, { method: 'POST', json: { role: 'driver' } })).json.invite;
    await setup.close();

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let srv = await spawnServer(dataDir, port);

    // Notes in the room's Yjs document.
    const doc = new Y.Doc();
    const yp = new WebsocketProvider(`ws://127.0.0.1:${port}/yjs`, 'default', doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true });
    cleanup.push(() => yp.destroy());
    await new Promise<void>((r) => yp.once('sync', () => r()));
    doc.getText('notes').insert(0, 'written before the crash');

    // A host page: numbers its frames, keeps them, resends after the server's ack (as Room.tsx does).
    const host = client(url, 'default', 'host-page-0001');
    const sent: { seq: number; data: string }[] = [];
    let hostSeat = '';
    host.on('room:state', (s) => (hostSeat = s.seat));
    host.on('term:ack', (a) => {
      for (const f of sent.filter((f) => f.seq > a.hostSeq)) host.emit('term:out', { tab: 'main', ...f });
    });
    const out = (data: string) => {
      const f = { seq: sent.length + 1, data };
      sent.push(f);
      host.emit('term:out', { tab: 'main', ...f });
    };
    await until(() => hostSeat === 'host', 'the host seat');
    host.emit('host:status', { tab: 'main', phase: 'ready', progress: 1, message: '' });
    out('\x1b]133;A\x07$ \x1b]133;B\x07');

    // A guest page: the real TermStream; it resumes from its last sequence number.
    const written: string[] = [];
    let snapshots = 0;
    const stream: TermStream = new TermStream(
      { reset: () => written.splice(0), write: (d) => written.push(d), resize: () => {} },
      () => guest.emit('term:sync', { tab: 'main' }),
    );
    const guest = client(url, 'default', 'guest-page-0001', () => (stream.lastSeq === null ? undefined : { main: stream.lastSeq }));
    guest.on('term:snapshot', (s) => {
      snapshots++;
      stream.snapshot(s);
    });
    guest.on('term:out', (f) => stream.out(f));
    await until(() => snapshots === 1, 'the guest’s first snapshot');

    // Commands: one running when the server dies, one queued behind it.
    const running = (await call({ url }, `/api?wait=false`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` }, json: { cmd: 'sleep 600' } })).json.id;
    const queued = (await call({ url }, `/api?wait=false`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` }, json: { cmd: 'echo after' } })).json.id;
    const stateOf = async (id: string) => (await call({ url }, `/api/commands/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } })).json.state;
    const deadline = Date.now() + 10_000;
    while ((await stateOf(running)) !== 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await stateOf(running)).toBe('running');

    // Output flows while the server is killed and restarted.
    let k = 0;
    const ticker = setInterval(() => out(`line ${++k}\r\n`), 15);
    await until(() => k >= 40, 'output before the kill');
    await new Promise((r) => setTimeout(r, 300)); // the Yjs update reaches the server
    srv.proc.kill('SIGKILL');
    await new Promise((r) => srv.proc.once('exit', r));
    await new Promise((r) => setTimeout(r, 500));
    srv = await spawnServer(dataDir, port);
    await until(() => host.connected && guest.connected, 'both clients back', 5000);
    const reconnectMs = Date.now() - srv.readyAt;
    console.log(`clients reconnected ${reconnectMs} ms after the restarted server listened`);
    // About a second on an idle machine (300–1000 ms backoff); the bound leaves room for a loaded one.
    expect(reconnectMs).toBeLessThan(5000);
    await until(() => k >= 120, 'output after the restart');
    clearInterval(ticker);
    const last = k;
    await until(() => stream.lastSeq !== null && written.join('').includes(`line ${last}\r\n`), 'the guest to catch up', 5000);

    // The guest resumed (one snapshot, at its first join) and saw every line exactly once, in order.
    expect(hostSeat).toBe('host');
    expect(snapshots).toBe(1);
    const lines = written.join('').match(/line \d+/g)!;
    expect(lines).toEqual(Array.from({ length: last }, (_, i) => `line ${i + 1}`));

    // The recording has no gap and no duplicate either.
    const cast = parseCastText((await call({ url }, '/api/rooms/default/recordings/main/export.cast')).text);
    const recorded = cast.events.filter((e) => e[1] === 'o').map((e) => e[2]).join('').match(/line \d+/g)!;
    expect(recorded).toEqual(lines);

    // Rooms, members, invites, commands, notes.
    expect((await call({ url }, `/api/rooms/${room.id}/members`, { headers: { cookie: owner.cookie } })).json.members).toEqual([expect.objectContaining({ role: 'owner' })]);
    expect((await call({ url }, `/api/rooms/${room.id}/invites`, { headers: { cookie: owner.cookie } })).json.invites).toEqual([expect.objectContaining({ id: invite.id, role: 'driver' })]);
    expect(await stateOf(running)).toBe('interrupted');
    expect(['queued', 'running']).toContain(await stateOf(queued));
    const doc2 = new Y.Doc();
    const yp2 = new WebsocketProvider(`ws://127.0.0.1:${port}/yjs`, 'default', doc2, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true });
    cleanup.push(() => yp2.destroy());
    await new Promise<void>((r) => yp2.once('sync', () => r()));
    expect(doc2.getText('notes').toString()).toContain('written before the crash');
  }, 90_000);
});
