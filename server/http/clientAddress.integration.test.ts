import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer } from '../testing/startServer';
import { connectOutcome } from '../testing/errorCode';

/**
 * Behind a reverse proxy every client arrives from the proxy's address: the per-address limits
 * must key on X-Forwarded-For then — but only when TRUST_PROXY says the peer is that proxy, or a
 * client could name any address it likes and never hit a limit (attacker test).
 */
type Srv = Awaited<ReturnType<typeof startServer>>;
let proxied: Srv;
let direct: Srv;
beforeAll(async () => {
  proxied = await startServer({ HEADLESS: 'off', SOCKETS_PER_IP_MAX: '1', TRUST_PROXY: '127.0.0.1' });
  direct = await startServer({ HEADLESS: 'off', SOCKETS_PER_IP_MAX: '1' });
});
afterAll(async () => {
  await proxied?.close();
  await direct?.close();
});

const outcome = connectOutcome;
const yjsStatus = (srv: Srv, room: string, forwardedFor: string) =>
  new Promise<number>((resolve) => {
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/yjs/${room}`, { headers: { 'x-forwarded-for': forwardedFor } });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
const xff = (a: string) => ({ headers: { 'x-forwarded-for': a } });

describe('client address behind a trusted proxy', () => {
  it('counts each forwarded client on its own when the proxy is trusted', async () => {
    const room = proxied.server.rooms.create('behind a proxy').id;
    expect(await outcome(proxied.client(room, xff('198.51.100.1')))).toBe('connected');
    expect(await outcome(proxied.client(room, { wantHost: false, ...xff('198.51.100.2') }))).toBe('connected');
    // The same client again is over its cap of one, even though it came through the same proxy.
    expect(await outcome(proxied.client(room, { wantHost: false, ...xff('198.51.100.1') }))).toBe('QUOTA_EXCEEDED');
    // A client that writes its own header in front of the proxy's entry is still keyed by the proxy's entry.
    expect(await outcome(proxied.client(room, { wantHost: false, ...xff('203.0.113.77, 198.51.100.2') }))).toBe('QUOTA_EXCEEDED');
    expect(await yjsStatus(proxied, room, '198.51.100.3')).toBe(101);
    expect(await yjsStatus(proxied, room, '198.51.100.1')).toBe(429);
  });

  it('ignores the header when no proxy is trusted: a forged address does not escape the cap', async () => {
    const room = direct.server.rooms.create('no proxy').id;
    expect(await outcome(direct.client(room, xff('198.51.100.1')))).toBe('connected');
    expect(await outcome(direct.client(room, { wantHost: false, ...xff('198.51.100.2') }))).toBe('QUOTA_EXCEEDED');
    expect(await yjsStatus(direct, room, '198.51.100.3')).toBe(429);
  });
});
