import type { WebSocket } from 'ws';
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { Logger } from 'pino';
import type { ControlState } from '../../lib/shared/protocol';
import type { ControlMirror } from '../access/KeyboardControl';
import { DEFAULT_CONTROL, parseControl } from '../access/RoomControl';
import type { Db } from '../db';
import { YjsRoomLog, type YjsLogOptions } from './YjsRoomLog';
import { awarenessMessage, send, updateMessage } from './yjsWire';

/** One open room: its document, presence, the connections that have it open and their awareness ids. */
export interface RoomDoc {
  doc: Y.Doc;
  awareness: awarenessProtocol.Awareness;
  conns: Map<WebSocket, Set<number>>;
  log: YjsRoomLog;
  /** The control state last mirrored here; a client's edit of the `control` map is put back to it. */
  control: ControlState;
}

/** Transactions the server makes itself (the control map); everything else came from a client. */
const SERVER_ORIGIN = Symbol('server');

/**
 * The rooms' Yjs documents: loaded from SQLite (YjsRoomLog) when a client or the control mirror
 * needs one, relayed to the room's connections on every change, stored and dropped when the last
 * connection leaves. Everything a room holds lives in its RoomDoc, so unloading reaps it all. Also
 * the keyboard control's mirror (server/access/KeyboardControl.ts): writes the state into the
 * document's `control` map, where every client reads it.
 */
export class YjsDocs implements ControlMirror {
  private docs = new Map<string, RoomDoc>();
  private closed = false;

  constructor(private o: { db: Db; log: Logger } & YjsLogOptions) {}

  /** The room's document, loaded if no one has it open. Pair with `release` when its last connection leaves. */
  open(roomId: string): RoomDoc {
    let r = this.docs.get(roomId);
    if (r) return r;
    const doc = new Y.Doc({ gc: true });
    // Loads the stored updates before the first client syncs, and before our 'update' handler
    // exists, so loading does not store them again.
    const log = new YjsRoomLog(this.o.db, roomId, doc, this.o.log, this.o);
    const awareness = new awarenessProtocol.Awareness(doc);
    awareness.setLocalState(null);
    const room: RoomDoc = { doc, awareness, conns: new Map(), log, control: parseControl(doc.getMap('control').toJSON()) };
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      try {
        log.append(update);
      } catch (err) {
        // The room keeps working from memory; a client that has the update gives it back when it
        // syncs with a restarted server.
        this.o.log.error({ err, roomId }, 'could not store a yjs update');
      }
      const msg = updateMessage(update);
      for (const ws of room.conns.keys()) if (ws !== origin) send(ws, msg);
    });
    awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      const ids = room.conns.get(origin as WebSocket);
      if (ids) {
        for (const id of added) ids.add(id);
        for (const id of removed) ids.delete(id);
      }
      const msg = awarenessMessage(awareness, added.concat(updated, removed));
      for (const ws of room.conns.keys()) send(ws, msg);
    });
    // Only the server writes `control`; a client's edit of it is put back at once.
    doc.getMap('control').observe((ev) => {
      if (ev.transaction.origin === SERVER_ORIGIN || this.closed) return;
      writeControl(doc, room.control);
    });
    this.docs.set(roomId, room);
    return room;
  }

  /** Stores and drops the room if no connection has it open. */
  release(roomId: string): void {
    const room = this.docs.get(roomId);
    if (room && room.conns.size === 0) this.unload(roomId, room);
  }

  get(roomId: string): RoomDoc | undefined {
    return this.docs.get(roomId);
  }

  /** Rooms open now (tests check reaping). */
  get size(): number {
    return this.docs.size;
  }

  load(roomId: string): ControlState {
    return this.withRoom(roomId, (room) => room.control);
  }

  save(roomId: string, state: ControlState): void {
    this.withRoom(roomId, (room) => {
      room.control = state;
      writeControl(room.doc, state);
    });
  }

  /** Stores each open room compacted (the db must still be open), then drops every connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [roomId, r] of this.docs) {
      this.compact(roomId, r);
      for (const ws of r.conns.keys()) ws.terminate();
      r.awareness.destroy();
      r.doc.destroy();
    }
    this.docs.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `fn` on a room's document, loading it for the call if no client has it open. */
  private withRoom<T>(roomId: string, fn: (room: RoomDoc) => T): T {
    const room = this.open(roomId);
    try {
      return fn(room);
    } finally {
      this.release(roomId);
    }
  }

  private unload(roomId: string, room: RoomDoc): void {
    this.compact(roomId, room);
    room.awareness.destroy();
    room.doc.destroy();
    this.docs.delete(roomId);
  }

  private compact(roomId: string, room: RoomDoc): void {
    try {
      room.log.compact();
    } catch (err) {
      // The rows are still there; the next load compacts them.
      this.o.log.error({ err, roomId }, 'could not compact a yjs document');
    }
  }
}

function writeControl(doc: Y.Doc, state: ControlState): void {
  doc.transact(() => {
    const m = doc.getMap('control');
    m.set('mode', state.mode);
    m.set('holder', state.holder);
    m.set('hands', [...state.hands]);
    for (const k of m.keys()) if (!(k in DEFAULT_CONTROL)) m.delete(k);
  }, SERVER_ORIGIN);
}
