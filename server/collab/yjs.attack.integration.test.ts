import net from 'node:net';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { WebsocketProvider } from 'y-websocket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { next, startServer } from '../testing/startServer';
import { MAX_YJS_MESSAGE_BYTES, MAX_YJS_PENDING_BYTES_PER_CONN } from './YjsEndpoint';

let srv: Awaited<ReturnType<typeof startServer>>;
const providers: WebsocketProvider[] = [];
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  for (const p of providers) p.destroy();
  await srv?.close();
});

const wsUrl = (room: string) => `${srv.url.replace('http', 'ws')}/yjs/${room}`;
const opened = (ws: WebSocket) => new Promise((r) => ws.on('open', r));
const closedWith = (ws: WebSocket) => new Promise<number>((r) => ws.on('close', (code) => r(code)));
const healthy = async () => expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);

function provider(room: string) {
  const doc = new Y.Doc();
  const p = new WebsocketProvider(srv.url.replace('http', 'ws') + '/yjs', room, doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true });
  providers.push(p);
  return { doc, p, synced: new Promise<void>((r) => (p.synced ? r() : p.once('sync', (s: boolean) => s && r()))) };
}

function updateFrame(update: Uint8Array): Buffer {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, 0); // MESSAGE_SYNC
  syncProtocol.writeUpdate(enc, update);
  return Buffer.from(encoding.toUint8Array(enc));
}

describe('Yjs endpoint (attacker)', () => {
  it('an oversize frame closes that socket (1009), never the process', async () => {
    const ws = new WebSocket(wsUrl('default'));
    ws.on('error', () => {});
    await opened(ws);
    const closed = closedWith(ws);
    ws.send(Buffer.alloc(MAX_YJS_MESSAGE_BYTES + 1024, 1));
    expect(await closed).toBe(1009);
    await healthy();
  });

  it('a reset while the handshake is being authorized is no process-level error', async () => {
    const { port } = new URL(srv.url);
    for (let i = 0; i < 5; i++) {
      const s = net.connect(Number(port), '127.0.0.1');
      await new Promise((r) => s.on('connect', r));
      s.on('error', () => {});
      s.write(
        `GET /yjs/default HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: authjs.session-token=x\r\n\r\n`,
      );
      s.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    await healthy();
  });

  it('an update that does not decode closes its sender (1003, BAD_MESSAGE), nothing of it lands, the room works on', async () => {
    const mine = new Y.Doc();
    mine.getText('notes').insert(0, 'truncated-secret');
    const whole = Y.encodeStateAsUpdate(mine);
    const ws = new WebSocket(wsUrl('default'));
    ws.on('error', () => {});
    await opened(ws);
    const closed = new Promise<[number, string]>((r) => ws.on('close', (code, why) => r([code, why.toString()])));
    ws.send(updateFrame(whole.subarray(0, whole.length - 6)));
    expect(await closed).toEqual([1003, 'BAD_MESSAGE']);
    const honest = provider('default');
    await honest.synced;
    expect(honest.doc.getText('notes').toString()).not.toContain('truncated-secret');
    await healthy();
  });

  it('updates whose dependencies never arrive are capped per connection: the sender is closed, the room works on', async () => {
    // The attacker's own document: the first insert is never sent, so everything after it is pending on the server.
    const mine = new Y.Doc();
    mine.getText('notes').insert(0, 'hidden base');
    const frames: Buffer[] = [];
    mine.on('update', (u: Uint8Array) => frames.push(updateFrame(u)));
    const chunk = 'p'.repeat(4096);
    for (let sent = 0; sent < MAX_YJS_PENDING_BYTES_PER_CONN * 2; sent += chunk.length) mine.getText('notes').insert(0, chunk);
    const ws = new WebSocket(wsUrl('default'));
    ws.on('error', () => {});
    await opened(ws);
    const closed = closedWith(ws);
    for (const f of frames) if (ws.readyState === ws.OPEN) ws.send(f);
    expect(await closed).toBe(1009);
    // Nothing of it reached the document, and an honest client still syncs and edits.
    const honest = provider('default');
    await honest.synced;
    expect(honest.doc.getText('notes').toString()).not.toContain('p');
    honest.doc.getText('notes').insert(0, 'ok ');
    const other = provider('default');
    await other.synced;
    await expect.poll(() => other.doc.getText('notes').toString()).toContain('ok ');
    await healthy();
  });

  it("in an open room the host's reconnect credential (its clientId) is never published in the control state", async () => {
    const form = await fetch(`${srv.url}/rooms/new`, { method: 'POST', body: 'name=open', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    const room = form.headers.get('location')!.split('/').pop()!;
    const secretClientId = 'host-credential-7f3a9c';
    const host = await srv.client(room, { clientId: secretClientId });
    const state = await next(host, 'room:state');
    host.emit('control:request', {});
    const watcher = provider(room);
    await watcher.synced;
    await expect.poll(() => (watcher.doc.getMap('control').toJSON() as { hands?: string[] }).hands?.length ?? 0).toBe(1);
    const published = JSON.stringify(watcher.doc.getMap('control').toJSON());
    expect(published).not.toContain(secretClientId);
    // The id that is published is the host's member id, which the host itself learns from its state.
    expect(published).toContain((state as { me?: { memberId: string } }).me?.memberId ?? 'missing');
    host.disconnect();
  });
});
