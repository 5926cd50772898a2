import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer } from '../testing/startServer';
import { connectOutcome } from '../testing/errorCode';

/** Attacker test: one address holding the server's sockets (issue 9, weak spot: per-IP cap on sockets). */
type Srv = Awaited<ReturnType<typeof startServer>>;
let srv: Srv;
beforeAll(async () => {
  srv = await startServer({ HEADLESS: 'off', SOCKETS_PER_IP_MAX: '4' });
});
afterAll(async () => {
  await srv?.close();
});

const code = connectOutcome;
const yjs = (room: string) =>
  new Promise<{ status: number; ws?: WebSocket }>((resolve) => {
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/yjs/${room}`);
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_q, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.once('error', () => resolve({ status: -1 }));
  });

describe('sockets per address (attacker)', () => {
  it('Socket.IO and Yjs together stop at the cap; closing one makes room; refused handshakes hold nothing', async () => {
    const room = srv.server.rooms.create('crowded').id;
    // Refused handshakes (a bad room) must not use up the quota.
    for (let i = 0; i < 6; i++) expect(await code(srv.client('no-such-room'))).toBe('ROOM_NOT_FOUND');
    const socks = [await srv.client(room), await srv.client(room, { wantHost: false }), await srv.client(room, { wantHost: false })];
    const y = await yjs(room);
    expect(y.status).toBe(101);
    expect(await code(srv.client(room, { wantHost: false }))).toBe('QUOTA_EXCEEDED');
    expect((await yjs(room)).status).toBe(429);
    socks[2].disconnect();
    await new Promise((r) => setTimeout(r, 100));
    expect(await code(srv.client(room, { wantHost: false }))).toBe('connected');
    y.ws!.close();
    await new Promise((r) => setTimeout(r, 100));
    const again = await yjs(room);
    expect(again.status).toBe(101);
    again.ws!.close();
  });
});
