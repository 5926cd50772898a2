import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import * as Y from 'yjs';
import { openDb, type Db } from '../db';
import { rooms, yjsUpdates } from '../../drizzle/schema';
import { RoomStore } from '../rooms/RoomStore';
import { YjsRoomLog, type YjsLogOptions } from './YjsRoomLog';

const silent = pino({ level: 'silent' });
let dir: string;
let db: Db;
let room: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-yjslog-'));
  db = openDb(dir);
  room = new RoomStore(db).create('Notes').id;
});
afterEach(() => {
  db.$client.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A doc whose updates go to the log, as YjsDocs wires it. */
function open(roomId = room, opts: YjsLogOptions = {}) {
  const doc = new Y.Doc({ gc: true });
  const log = new YjsRoomLog(db, roomId, doc, silent, opts);
  doc.on('update', (u: Uint8Array) => log.append(u));
  return { doc, log };
}
const rowsOf = (roomId = room) => db.select().from(yjsUpdates).where(eq(yjsUpdates.roomId, roomId)).all();
const storedBytes = (roomId = room) => rowsOf(roomId).reduce((n, r) => n + r.update.byteLength, 0);
/** Everything a reader sees, to compare documents. */
const content = (doc: Y.Doc) => ({ notes: doc.getText('notes').toString(), meta: doc.getMap('meta').toJSON(), list: doc.getArray('list').toJSON() });

describe('YjsRoomLog', () => {
  it('stores every update and loads them into a new doc, without storing them again', () => {
    const a = open();
    a.doc.getText('notes').insert(0, 'hello');
    a.doc.getMap('meta').set('keyboard', 'ada');
    a.doc.getText('notes').insert(5, ' world');
    expect(rowsOf()).toHaveLength(3);
    const b = open();
    expect(content(b.doc)).toEqual({ notes: 'hello world', meta: { keyboard: 'ada' }, list: [] });
    expect(rowsOf()).toHaveLength(3);
    expect(b.log.rows).toBe(3);
  });

  it('an empty room stores nothing, even when compacted', () => {
    const a = open();
    a.log.compact();
    expect(rowsOf()).toEqual([]);
  });

  it('compacts past compactAfterRows into one row with identical content', () => {
    const a = open(room, { compactAfterRows: 10 });
    for (let i = 0; i < 57; i++) {
      a.doc.getText('notes').insert(a.doc.getText('notes').length, String(i % 10));
      if (i % 3 === 0) a.doc.getArray('list').push([{ i }]);
      if (i % 7 === 0) a.doc.getText('notes').delete(0, 1);
      expect(rowsOf().length).toBeLessThanOrEqual(10);
    }
    const want = content(a.doc);
    a.log.compact();
    expect(rowsOf()).toHaveLength(1);
    const b = open(room, { compactAfterRows: 10 });
    expect(content(b.doc)).toEqual(want);
    // Further edits on the reloaded doc go on from there.
    b.doc.getMap('meta').set('after', true);
    expect(content(open().doc).meta).toEqual({ after: true });
  });

  it('compaction is a no-op when already compact, and after a reload', () => {
    const a = open();
    a.doc.getText('notes').insert(0, 'x');
    a.log.compact();
    const [row] = rowsOf();
    a.log.compact();
    open().log.compact();
    expect(rowsOf()).toEqual([row]);
  });

  it('keeps rooms apart', () => {
    const other = new RoomStore(db).create('Other').id;
    open().doc.getText('notes').insert(0, 'mine');
    open(other).doc.getText('notes').insert(0, 'theirs');
    expect(open().doc.getText('notes').toString()).toBe('mine');
    expect(open(other).doc.getText('notes').toString()).toBe('theirs');
  });

  it('a crash that left too many rows is compacted on load', () => {
    const a = open(room, { compactAfterRows: 1000 });
    for (let i = 0; i < 30; i++) a.doc.getText('notes').insert(0, 'x');
    expect(rowsOf()).toHaveLength(30);
    const b = open(room, { compactAfterRows: 10 });
    expect(rowsOf()).toHaveLength(1);
    expect(b.doc.getText('notes').toString()).toBe('x'.repeat(30));
  });

  it('skips a damaged row on load, keeps the rest, and rewrites the log', () => {
    const a = open();
    a.doc.getText('notes').insert(0, 'kept');
    db.insert(yjsUpdates).values({ roomId: room, update: Buffer.from([0xff, 0x13, 0x37, 0x00, 0xff]), createdAt: new Date() }).run();
    a.doc.getText('notes').insert(4, '!');
    const b = open();
    expect(b.doc.getText('notes').toString()).toBe('kept!');
    expect(rowsOf()).toHaveLength(1);
  });

  it('over the byte cap: full, and what is stored stays bounded', () => {
    const CAP = 10_000;
    const a = open(room, { maxDocBytes: CAP });
    const notes = a.doc.getText('notes');
    let i = 0;
    while (!a.log.full) notes.insert(notes.length, `${i++}`.padEnd(500, '.'));
    expect(storedBytes()).toBeGreaterThan(CAP);
    expect(storedBytes()).toBeLessThanOrEqual(CAP + 600);
    expect(a.log.bytes).toBe(storedBytes());
    // The reloaded room is still full.
    expect(open(room, { maxDocBytes: CAP }).log.full).toBe(true);
  });

  it('deleted text is given back by compaction, so a room does not fill up with history', () => {
    const CAP = 10_000;
    const a = open(room, { maxDocBytes: CAP });
    const notes = a.doc.getText('notes');
    for (let round = 0; round < 200; round++) {
      notes.insert(0, 'y'.repeat(2000));
      notes.delete(0, 2000);
      expect(a.log.full).toBe(false);
    }
    expect(storedBytes()).toBeLessThan(CAP);
    expect(open().doc.getText('notes').toString()).toBe('');
  });

  it('a deleted room takes its document with it', () => {
    open().doc.getText('notes').insert(0, 'bye');
    db.delete(rooms).where(eq(rooms.id, room)).run();
    expect(rowsOf()).toEqual([]);
  });
});
