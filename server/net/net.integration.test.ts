import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { call } from '../testing/http';
import { as, signUp } from '../testing/accounts';
import { WispTestClient } from '../testing/wispClient';
import { CLOSE_REASON, FRAME, closeFrame, connectFrame, dataFrame } from './wispFrames';
import { MAX_PROTOCOL_ERRORS } from './WispSession';

const API_KEY = 'net-test-key-0123456789';

/** A loopback TCP server that answers every chunk upper-cased: the one port NET_ALLOW opens. */
async function echoServer() {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => s.write(d.toString('latin1').toUpperCase()));
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

let echo: Awaited<ReturnType<typeof echoServer>>;
let other: Awaited<ReturnType<typeof echoServer>>;
let srv: Awaited<ReturnType<typeof startServer>>;
const wsUrl = (path: string) => srv.url.replace('http', 'ws') + path;

beforeAll(async () => {
  echo = await echoServer();
  other = await echoServer(); // a loopback port NET_ALLOW does not name
  srv = await startServer(
    // DNS only from NET_HOSTS: tests never ask a real resolver.
    { NET_ALLOW: `127.0.0.1:${echo.port}`, API_KEY, NET_RESOLVER: 'hosts', NET_HOSTS: 'localhost=127.0.0.1,inside.test=10.1.2.3' },
    { netLimits: { maxStreamsPerRoom: 4, connectsPerMinute: 40, idleTimeoutMs: 60_000 } },
  );
});
afterEach(() => srv.disconnectAll());
afterAll(async () => {
  await srv.close();
  await echo.close();
  await other.close();
});

/** A room with a host connected; returns the host's Wisp client. */
async function hostedRoom(opts: { cookie?: string; room?: string } = {}) {
  const room = opts.room ?? srv.server.rooms.create('net test').id;
  const host = await srv.client(room, { wantHost: true, cookie: opts.cookie });
  await new Promise((r) => setTimeout(r, 50));
  const t = await call(srv, `/api/rooms/${room}/net-token`, { method: 'POST', json: { sid: host.id } });
  expect(t.status).toBe(200);
  expect(t.json).toMatchObject({ mtu: 9000, internet: { on: true } });
  const wisp = await WispTestClient.open(wsUrl(t.json.path));
  // Stream 0's CONTINUE: the initial credit.
  expect(await wisp.next((f) => f.type === 'continue' && f.stream === 0)).toMatchObject({ remaining: 128 });
  return { room, host, wisp, path: t.json.path as string };
}

const auditOf = async (room: string) => (await call(srv, `/api/rooms/${room}/net?api_key=${API_KEY}`)).json;

describe('Wisp egress through the real server', () => {
  it('passes bytes both ways to the one loopback port NET_ALLOW opens, and audits it', async () => {
    const { room, wisp } = await hostedRoom();
    wisp.send(connectFrame(1, echo.port, '127.0.0.1'));
    wisp.send(dataFrame(1, Buffer.from('hello wisp')));
    expect((await wisp.read(1, 10)).toString()).toBe('HELLO WISP');
    wisp.send(closeFrame(1, CLOSE_REASON.VOLUNTARY));
    await expect.poll(async () => (await auditOf(room)).connections.length).toBe(1);
    const a = await auditOf(room);
    expect(a.connections[0]).toMatchObject({ kind: 'wisp', ip: '127.0.0.1', port: echo.port, bytesUp: 10, bytesDown: 10, refused: null, host: expect.stringMatching(/^a:/) });
    expect(a.internet).toMatchObject({ on: true, mode: 'on' });
    wisp.close();
  });

  it("refuses any other loopback port, the server's own port and mapped-IPv6 spellings, with a close reason and an audit row", async () => {
    const { room, wisp } = await hostedRoom();
    const serverPort = Number(new URL(srv.url).port);
    const cases: [string, number, string][] = [
      ['127.0.0.1', other.port, 'loopback'],
      ['127.1', other.port, 'loopback'],
      ['127.0.0.1', serverPort, 'self'],
      ['::ffff:7f00:1', serverPort, 'self'],
      ['::ffff:127.0.0.1', other.port, 'loopback'],
      ['0.0.0.0', other.port, 'unspecified'],
      ['169.254.169.254', 80, 'link_local'],
      ['10.0.0.1', 80, 'private'],
      ['localhost', other.port, 'loopback'],
      ['inside.test', 80, 'private'],
      ['nowhere.test', 80, 'unresolved'],
    ];
    let id = 10;
    for (const [host, port] of cases) {
      wisp.send(connectFrame(++id, port, host));
      expect(await wisp.closeReason(id)).toBeOneOf([CLOSE_REASON.BLOCKED, CLOSE_REASON.UNREACHABLE]);
    }
    const rows = (await auditOf(room)).connections as { refused: string; port: number }[];
    expect(rows.map((r) => r.refused).sort()).toEqual(cases.map((c) => c[2]).sort());
    // Nothing ever connected to the other port.
    wisp.send(connectFrame(99, echo.port, '127.0.0.1'));
    wisp.send(dataFrame(99, Buffer.from('still fine')));
    expect((await wisp.read(99, 10)).toString()).toBe('STILL FINE');
    wisp.close();
  });

  it("refuses unauthenticated, forged, expired and guests' upgrades", async () => {
    const { room, host, path, wisp } = await hostedRoom();
    await expect(WispTestClient.open(wsUrl('/net/nonsense/'))).rejects.toThrow('401');
    await expect(WispTestClient.open(wsUrl('/net/'))).rejects.toThrow('401');
    await expect(WispTestClient.open(wsUrl(path.replace(/.\/$/, 'x/')))).rejects.toThrow('401');
    const expired = srv.server.net.hub.issueToken(room, 'whoever', Date.now() - 25 * 3600_000);
    await expect(WispTestClient.open(wsUrl(`/net/${expired}/`))).rejects.toThrow('401');
    // A guest asks for the host's network: its connection id is not the seat's.
    const guest = await srv.client(room, { wantHost: true });
    const g = await call(srv, `/api/rooms/${room}/net-token`, { method: 'POST', json: { sid: guest.id } });
    expect(g.status).toBe(403);
    expect((await call(srv, `/api/rooms/${room}/net-token`, { method: 'POST', json: { nope: 1 } })).status).toBe(400);
    // A token for another browser tab of the same room (not the seat) is refused at the upgrade.
    const notSeat = srv.server.net.hub.issueToken(room, 'another-tab-id');
    await expect(WispTestClient.open(wsUrl(`/net/${notSeat}/`))).rejects.toThrow('403');
    // The host leaves: its open session is cut, and its token opens nothing any more.
    host.disconnect();
    await wisp.waitClosed();
    await expect(WispTestClient.open(wsUrl(path))).rejects.toThrow('403');
    // Socket.IO and Yjs upgrades still work beside it.
    expect((await srv.client(room, { wantHost: false })).connected).toBe(true);
  });

  it('holds the per-room stream cap and answers extra CONNECTs with THROTTLED', async () => {
    const { room, wisp } = await hostedRoom();
    for (let id = 1; id <= 4; id++) wisp.send(connectFrame(id, echo.port, '127.0.0.1'));
    wisp.send(connectFrame(5, echo.port, '127.0.0.1'));
    expect(await wisp.closeReason(5)).toBe(CLOSE_REASON.THROTTLED);
    wisp.send(dataFrame(4, Buffer.from('ok')));
    expect((await wisp.read(4, 2)).toString()).toBe('OK');
    expect((await auditOf(room)).live).toMatchObject({ openStreams: 4, sessions: 1, counters: { refused_room_streams: 1 } });
    wisp.close();
  });

  it('survives malformed frames and unknown stream ids, counts them, and closes a session that keeps sending them', async () => {
    const { room, wisp } = await hostedRoom();
    wisp.send(Buffer.from([1, 2]));
    wisp.send(Buffer.from([0x09, 5, 0, 0, 0, 1]));
    expect(await wisp.closeReason(5)).toBe(CLOSE_REASON.INVALID);
    wisp.send(dataFrame(77, Buffer.from('who?')));
    wisp.send(Buffer.from([FRAME.CONNECT, 6, 0, 0, 0]));
    expect(await wisp.closeReason(6)).toBe(CLOSE_REASON.INVALID);
    wisp.send(connectFrame(7, 53, '8.8.8.8', 0x02)); // UDP is not offered
    expect(await wisp.closeReason(7)).toBe(CLOSE_REASON.INVALID);
    wisp.ws.send('text is not wisp');
    // Still serving.
    wisp.send(connectFrame(8, echo.port, '127.0.0.1'));
    wisp.send(dataFrame(8, Buffer.from('alive')));
    expect((await wisp.read(8, 5)).toString()).toBe('ALIVE');
    expect((await auditOf(room)).live.counters.protocol_errors).toBeGreaterThanOrEqual(4);
    // Past the limit the session is closed (policy violation); another room is untouched.
    const bystander = await hostedRoom();
    for (let i = 0; i < MAX_PROTOCOL_ERRORS + 2; i++) wisp.send(dataFrame(1000 + i, Buffer.from('x')));
    expect((await wisp.waitClosed()).code).toBe(1008);
    bystander.wisp.send(connectFrame(1, echo.port, '127.0.0.1'));
    bystander.wisp.send(dataFrame(1, Buffer.from('unaffected')));
    expect((await bystander.wisp.read(1, 10)).toString()).toBe('UNAFFECTED');
    bystander.wisp.close();
  });

  it('throttles a CONNECT flood per room (counted, one audit row a minute), leaving other rooms alone', async () => {
    const { room, wisp } = await hostedRoom();
    const other = await hostedRoom();
    for (let id = 1; id <= 60; id++) {
      wisp.send(connectFrame(id, echo.port, '127.0.0.1'));
      wisp.send(closeFrame(id, CLOSE_REASON.VOLUNTARY));
    }
    await expect.poll(async () => (await auditOf(room)).live.counters.refused_throttled ?? 0).toBeGreaterThanOrEqual(15);
    const rows = (await auditOf(room)).connections as { refused: string | null }[];
    expect(rows.filter((r) => r.refused === 'throttled')).toHaveLength(1);
    other.wisp.send(connectFrame(1, echo.port, '127.0.0.1'));
    other.wisp.send(dataFrame(1, Buffer.from('fine')));
    expect((await other.wisp.read(1, 4)).toString()).toBe('FINE');
    wisp.close();
    other.wisp.close();
  });

  it("the owner's Internet switch cuts open streams at once and refuses new ones until it is back on", async () => {
    const owner = await signUp(srv, 'Net Owner');
    const created = await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'switch' } });
    const room = created.json.room.id as string;
    const { wisp } = await hostedRoom({ cookie: owner.cookie, room });
    wisp.send(connectFrame(1, echo.port, '127.0.0.1'));
    wisp.send(dataFrame(1, Buffer.from('a')));
    await wisp.read(1, 1);
    const off = await as(srv, owner.cookie, `/api/rooms/${room}`, { method: 'PATCH', json: { internet: false } });
    expect(off.status).toBe(200);
    expect(off.json.room).toMatchObject({ internet: false, net: { on: false, reason: 'switch_off' } });
    expect(await wisp.closeReason(1)).toBe(CLOSE_REASON.BLOCKED);
    wisp.send(connectFrame(2, echo.port, '127.0.0.1'));
    expect(await wisp.closeReason(2)).toBe(CLOSE_REASON.BLOCKED);
    await as(srv, owner.cookie, `/api/rooms/${room}`, { method: 'PATCH', json: { internet: true } });
    wisp.send(connectFrame(3, echo.port, '127.0.0.1'));
    wisp.send(dataFrame(3, Buffer.from('back')));
    expect((await wisp.read(3, 4)).toString()).toBe('BACK');
    // The audit is the owner's to read; others get nothing.
    const audit = await as(srv, owner.cookie, `/api/rooms/${room}/net`);
    expect(audit.status).toBe(200);
    expect(audit.json.connections.map((r: { refused: string | null }) => r.refused)).toContain('internet_off');
    const stranger = await signUp(srv, 'Stranger');
    expect((await as(srv, stranger.cookie, `/api/rooms/${room}/net`)).status).toBe(404);
    expect((await call(srv, `/api/rooms/${room}/net`)).status).toBe(401);
    wisp.close();
  });
});
