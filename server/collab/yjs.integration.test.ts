import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { startServer } from '../testing/startServer';

let srv: Awaited<ReturnType<typeof startServer>>;
const providers: WebsocketProvider[] = [];
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  for (const p of providers) p.destroy();
  await srv?.close();
});

function provider(room: string) {
  const doc = new Y.Doc();
  const p = new WebsocketProvider(srv.url.replace('http', 'ws') + '/yjs', room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  providers.push(p);
  return { doc, p };
}

const synced = (p: WebsocketProvider) => new Promise<void>((r) => (p.synced ? r() : p.once('sync', (s: boolean) => s && r())));

describe('Yjs endpoint', () => {
  it('syncs shared notes and presence between two real y-websocket clients', async () => {
    const a = provider('default');
    const b = provider('default');
    await Promise.all([synced(a.p), synced(b.p)]);
    a.doc.getText('notes').insert(0, 'hello from a');
    await expect.poll(() => b.doc.getText('notes').toString()).toBe('hello from a');
    a.p.awareness.setLocalStateField('user', { name: 'Ada' });
    await expect
      .poll(() => [...b.p.awareness.getStates().values()].map((s) => (s as { user?: { name: string } }).user?.name))
      .toContain('Ada');
  });

  it('refuses unknown rooms before any sync', async () => {
    const ws = new WebSocket(srv.url.replace('http', 'ws') + '/yjs/no-such-room');
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(status).toBe(404);
  });

  it('closes a connection that sends garbage, and the room keeps working', async () => {
    const ws = new WebSocket(srv.url.replace('http', 'ws') + '/yjs/default');
    await new Promise((r) => ws.on('open', r));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.send(Buffer.from([0x63, 0xff, 0xff, 0xff]));
    expect(await closed).toBe(1003);
    const c = provider('default');
    await synced(c.p);
    expect(c.doc.getText('notes').toString()).toBe('hello from a');
  });
});
