import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { WebsocketProvider } from 'y-websocket';
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db';
import { yjsUpdates } from '../../drizzle/schema';
import { startServer } from '../testing/startServer';
import { MAX_YJS_DOC_BYTES, YJS_COMPACT_AFTER_ROWS } from './YjsRoomLog';
import { MAX_YJS_MESSAGE_BYTES } from './YjsEndpoint';

type Srv = Awaited<ReturnType<typeof startServer>>;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-yjs-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function server(dataDir: string): Promise<Srv> {
  const srv = await startServer({}, { dataDir });
  cleanup.push(() => srv.close());
  return srv;
}

function provider(srv: Srv, room: string) {
  const doc = new Y.Doc();
  const p = new WebsocketProvider(srv.url.replace('http', 'ws') + '/yjs', room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  cleanup.push(() => p.destroy());
  return { doc, p };
}

const synced = (p: WebsocketProvider) => new Promise<void>((r) => (p.synced ? r() : p.once('sync', (s: boolean) => s && r())));
const content = (doc: Y.Doc) => ({ notes: doc.getText('notes').toString(), meta: doc.getMap('meta').toJSON() });
const rowsOf = (db: Db, room: string) => db.select().from(yjsUpdates).where(eq(yjsUpdates.roomId, room)).orderBy(asc(yjsUpdates.id)).all();
/** What the server has on disk for the room, as a reader would see it. */
function stored(db: Db, room: string) {
  const doc = new Y.Doc();
  for (const r of rowsOf(db, room)) Y.applyUpdate(doc, new Uint8Array(r.update));
  return content(doc);
}

describe('Yjs persistence', () => {
  it('notes written by one client survive a server restart', async () => {
    const dataDir = tempDir();
    const first = await server(dataDir);
    const room = first.server.rooms.create('Persisted notes').id;
    const a = provider(first, room);
    await synced(a.p);
    a.doc.getText('notes').insert(0, 'survives a restart <script>x</script> ✓');
    a.doc.getMap('meta').set('keyboard', 'ada');
    const want = content(a.doc);
    await expect.poll(() => stored(first.server.db, room)).toEqual(want);
    a.p.destroy();
    await first.close();

    const second = await server(dataDir);
    const b = provider(second, room); // a fresh doc: everything it gets comes from the server
    await synced(b.p);
    expect(content(b.doc)).toEqual(want);
    b.doc.getText('notes').insert(0, '2nd: ');
    await expect.poll(() => stored(second.server.db, room).notes).toBe('2nd: ' + want.notes);
  });

  it('compaction keeps the content identical, while connected, on last disconnect and across a restart', async () => {
    const dataDir = tempDir();
    const srv = await server(dataDir);
    const room = srv.server.rooms.create('Busy notes').id;
    const a = provider(srv, room);
    const b = provider(srv, room);
    await Promise.all([synced(a.p), synced(b.p)]);
    const notes = a.doc.getText('notes');
    const edits = YJS_COMPACT_AFTER_ROWS * 2 + 50;
    let maxRows = 0;
    for (let i = 0; i < edits; i++) {
      notes.insert(notes.length, String.fromCharCode(97 + (i % 26))); // each one update, one message
      if (i % 17 === 0) notes.delete(0, 1);
      if (i % 50 === 0) a.doc.getMap('meta').set(`k${i}`, i);
      if (i % 25 === 0) {
        await new Promise((r) => setTimeout(r, 5));
        maxRows = Math.max(maxRows, rowsOf(srv.server.db, room).length);
      }
    }
    const want = content(a.doc);
    await expect.poll(() => content(b.doc), { timeout: 15_000 }).toEqual(want);
    expect(stored(srv.server.db, room)).toEqual(want);
    expect(maxRows).toBeLessThanOrEqual(YJS_COMPACT_AFTER_ROWS + 1);
    expect(rowsOf(srv.server.db, room).length).toBeLessThan(edits);

    a.p.destroy();
    b.p.destroy();
    await expect.poll(() => rowsOf(srv.server.db, room).length).toBe(1);
    expect(stored(srv.server.db, room)).toEqual(want);
    await srv.close();

    const again = await server(dataDir);
    const c = provider(again, room);
    await synced(c.p);
    expect(content(c.doc)).toEqual(want);
  });

  it('caps what a room stores; a full room can still be read and emptied', async () => {
    const srv = await server(tempDir());
    const room = srv.server.rooms.create('Too much').id;
    const ws = new WebSocket(srv.url.replace('http', 'ws') + '/yjs/' + room);
    await new Promise((r) => ws.on('open', r));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    const local = new Y.Doc();
    const chunk = 'z'.repeat(MAX_YJS_MESSAGE_BYTES - 4096);
    let sent = 0;
    local.on('update', (u: Uint8Array) => {
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, 0); // MESSAGE_SYNC
      syncProtocol.writeUpdate(enc, u);
      if (ws.readyState === ws.OPEN) ws.send(encoding.toUint8Array(enc));
      sent += u.byteLength;
    });
    for (let i = 0; i < 2 * Math.ceil(MAX_YJS_DOC_BYTES / chunk.length) && ws.readyState === ws.OPEN; i++) {
      local.getText('notes').insert(local.getText('notes').length, chunk);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await closed).toBe(1009);
    expect(sent).toBeGreaterThan(MAX_YJS_DOC_BYTES);
    const bytes = rowsOf(srv.server.db, room).reduce((n, r) => n + r.update.byteLength, 0);
    expect(bytes).toBeGreaterThan(MAX_YJS_DOC_BYTES - chunk.length);
    expect(bytes).toBeLessThanOrEqual(MAX_YJS_DOC_BYTES + MAX_YJS_MESSAGE_BYTES);

    // A reader syncs (answering our step 1 with its empty step 2) and is not thrown out…
    const reader = provider(srv, room);
    let kicked = 0;
    reader.p.on('connection-close', () => kicked++);
    await synced(reader.p);
    const have = reader.doc.getText('notes').length;
    expect(have).toBeGreaterThan(MAX_YJS_DOC_BYTES - chunk.length);
    await new Promise((r) => setTimeout(r, 200));
    expect(kicked).toBe(0);
    // …and may delete, which compaction turns into room for new notes.
    reader.doc.getText('notes').delete(0, have);
    await new Promise((r) => setTimeout(r, 300));
    expect(kicked).toBe(0);
    reader.p.destroy();
    await expect.poll(() => rowsOf(srv.server.db, room).reduce((n, r) => n + r.update.byteLength, 0)).toBeLessThan(1024);
    const writer = provider(srv, room);
    await synced(writer.p);
    writer.doc.getText('notes').insert(0, 'room again');
    await expect.poll(() => stored(srv.server.db, room).notes).toBe('room again');
  });
});
