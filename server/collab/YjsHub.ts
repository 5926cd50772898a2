import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import * as Y from 'yjs';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import type { Logger } from 'pino';
import { asc, eq } from 'drizzle-orm';
import { ROOM_ID_RE, type ControlState } from '../../lib/shared/protocol';
import { TandemError } from '../../lib/shared/errors';
import { DEFAULT_CONTROL, parseControl } from '../access/RoomControl';
import type { Db } from '../db';
import { yjsUpdates } from '../../drizzle/schema';
import { refuseUpgrade } from '../http/refuseUpgrade';

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
/** One Yjs websocket message; presence and notes are small. */
export const MAX_YJS_MESSAGE_BYTES = 512 * 1024;
/**
 * A room's document beyond this is refused further updates (notes are not a file store). What is
 * stored stays under MAX_YJS_DOC_BYTES + MAX_YJS_MESSAGE_BYTES: the check runs before each message.
 */
export const MAX_YJS_DOC_BYTES = 4 * 1024 * 1024;
/** A room's stored updates are merged into one row past this many. */
export const YJS_COMPACT_AFTER_ROWS = 200;
/**
 * Over the byte cap, compact (deleted text may shrink away) only if this much, or an eighth of the
 * cap if less, was appended since the last compaction; otherwise the document counts as full.
 * Keeps a nearly full room from re-encoding megabytes on every keystroke.
 */
const MIN_BYTES_BETWEEN_COMPACTIONS = 64 * 1024;
const PING_MS = 30_000;

interface RoomDoc {
  doc: Y.Doc;
  awareness: awarenessProtocol.Awareness;
  conns: Map<WebSocket, Set<number>>;
  log: YjsRoomLog;
}

/** One connection's standing, from the same authority as the terminal (server/access/RoomAccess.ts). */
export interface YjsPeer {
  memberId: string;
  /** The name the server knows them by; null for visitors of open rooms (who choose their own). */
  name?: string | null;
  /** Drivers and above edit the shared notes; viewers' document updates are dropped. */
  canWrite: boolean;
  /** The sign-in session it came with, if any: signing out closes the connection. */
  sid?: string;
}

/** Decides a connection before the upgrade; throws TandemError (UNAUTHORIZED, FORBIDDEN, ROOM_NOT_FOUND). */
export type YjsAuthorizer = (req: IncomingMessage, roomId: string) => Promise<YjsPeer> | YjsPeer;

/** Transactions the server makes itself (the control map); everything else came from a client. */
const SERVER_ORIGIN = Symbol('server');

export interface YjsLogOptions {
  compactAfterRows?: number;
  maxDocBytes?: number;
}

/**
 * One room's Yjs document kept in SQLite as an append-only log of updates (yjs_updates), loaded
 * into the doc on construction. Every update is one row, written synchronously in the doc's
 * 'update' handler, before the hub relays it. Past `compactAfterRows` rows, or over the byte cap,
 * the rows are replaced by one holding Y.encodeStateAsUpdate, in one transaction, so a crash keeps
 * either the old rows or the new one. Compaction is also how deleted text stops costing space
 * (the doc has gc on). Transport-free: YjsHub makes one per open room.
 */
export class YjsRoomLog {
  private storedRows = 0;
  private storedBytes = 0;
  private appendedSinceCompaction = 0;
  private readonly compactAfterRows: number;
  private readonly maxDocBytes: number;
  private readonly minBytesBetweenCompactions: number;

  constructor(
    private db: Db,
    private roomId: string,
    private doc: Y.Doc,
    private log: Logger,
    opts: YjsLogOptions = {},
  ) {
    this.compactAfterRows = opts.compactAfterRows ?? YJS_COMPACT_AFTER_ROWS;
    this.maxDocBytes = opts.maxDocBytes ?? MAX_YJS_DOC_BYTES;
    this.minBytesBetweenCompactions = Math.min(MIN_BYTES_BETWEEN_COMPACTIONS, Math.ceil(this.maxDocBytes / 8));
    this.load();
  }

  /** Rows stored for the room. */
  get rows(): number {
    return this.storedRows;
  }

  /** Bytes stored for the room: the encoded document right after a compaction, roughly an upper bound on it otherwise. */
  get bytes(): number {
    return this.storedBytes;
  }

  /**
   * True when the stored bytes exceed the cap: refuse further updates. Within
   * MIN_BYTES_BETWEEN_COMPACTIONS of appends after a compaction, a document just under the cap may
   * be refused until the next compaction (at the latest when its last client leaves).
   */
  get full(): boolean {
    return this.storedBytes > this.maxDocBytes;
  }

  /** Stores one update of the doc (call from its 'update' event). */
  append(update: Uint8Array, now = new Date()): void {
    this.db.insert(yjsUpdates).values({ roomId: this.roomId, update: toBuffer(update), createdAt: now }).run();
    this.storedRows++;
    this.storedBytes += update.byteLength;
    this.appendedSinceCompaction += update.byteLength;
    if (this.storedRows > this.compactAfterRows || (this.full && this.appendedSinceCompaction >= this.minBytesBetweenCompactions)) this.compact(now);
  }

  /** Replaces the room's rows with one holding the whole document. Nothing to do when nothing is stored. */
  compact(now = new Date()): void {
    if (this.storedRows === 0 || (this.storedRows === 1 && this.appendedSinceCompaction === 0)) return;
    this.rewrite(now);
  }

  private rewrite(now = new Date()): void {
    const state = Y.encodeStateAsUpdate(this.doc);
    this.db.transaction(
      () => {
        this.db.delete(yjsUpdates).where(eq(yjsUpdates.roomId, this.roomId)).run();
        this.db.insert(yjsUpdates).values({ roomId: this.roomId, update: toBuffer(state), createdAt: now }).run();
      },
      { behavior: 'immediate' },
    );
    this.storedRows = 1;
    this.storedBytes = state.byteLength;
    this.appendedSinceCompaction = 0;
  }

  private load(): void {
    const rows = this.db
      .select({ id: yjsUpdates.id, update: yjsUpdates.update })
      .from(yjsUpdates)
      .where(eq(yjsUpdates.roomId, this.roomId))
      .orderBy(asc(yjsUpdates.id))
      .all();
    if (!rows.length) return;
    const updates = rows.map((r) => new Uint8Array(r.update));
    let damaged = false;
    try {
      Y.applyUpdate(this.doc, Y.mergeUpdates(updates), YjsRoomLog);
    } catch (err) {
      // A damaged row must not cost the room everything else: apply what still decodes.
      damaged = true;
      this.log.warn({ err, roomId: this.roomId }, 'stored yjs updates do not merge; applying them one by one');
      for (const [i, u] of updates.entries())
        try {
          Y.applyUpdate(this.doc, u, YjsRoomLog);
        } catch (e) {
          this.log.warn({ err: e, roomId: this.roomId, row: rows[i].id }, 'skipping a damaged yjs update');
        }
    }
    this.storedRows = rows.length;
    this.storedBytes = updates.reduce((n, u) => n + u.byteLength, 0);
    // At once when a crash left many rows, the room is over its cap, or damaged rows should go.
    if (this.storedRows > this.compactAfterRows || this.full || damaged) this.rewrite();
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * The y-websocket endpoint at /yjs/<roomId>: shared state that is naturally a CRDT (presence,
 * who holds the keyboard, notes). Terminal bytes never go here. Connections are checked before
 * the websocket upgrade, so a refused client never receives a byte of a document. Documents
 * survive restarts in SQLite (YjsRoomLog); awareness (presence) is not kept.
 */
export class YjsHub {
  private wss = new WebSocketServer({ noServer: true, maxPayload: MAX_YJS_MESSAGE_BYTES });
  private docs = new Map<string, RoomDoc>();
  private peers = new WeakMap<WebSocket, YjsPeer>();
  /** Each room's keyboard control: authoritative here, mirrored into the document's `control` map. */
  private controls = new Map<string, ControlState>();
  private pinger: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(private opts: { roomExists: (id: string) => boolean; authorize?: YjsAuthorizer; log: Logger; db: Db } & YjsLogOptions) {
    this.pinger = setInterval(() => {
      for (const room of this.docs.values())
        for (const ws of room.conns.keys()) {
          if ((ws as WebSocket & { alive?: boolean }).alive === false) ws.terminate();
          (ws as WebSocket & { alive?: boolean }).alive = false;
          ws.ping();
        }
    }, PING_MS).unref();
  }

  /** Handles an HTTP upgrade for /yjs/*; returns false when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/yjs/')) return false;
    const roomId = decodeURIComponent(url.pathname.slice('/yjs/'.length));
    if (!ROOM_ID_RE.test(roomId) || !this.opts.roomExists(roomId)) {
      refuseUpgrade(socket, 'ROOM_NOT_FOUND', 'no such room');
      return true;
    }
    void this.authorizeThenUpgrade(req, socket, head, roomId);
    return true;
  }

  private async authorizeThenUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, roomId: string): Promise<void> {
    let peer: YjsPeer;
    try {
      peer = this.opts.authorize ? await this.opts.authorize(req, roomId) : { memberId: 'anonymous', canWrite: true };
    } catch (e) {
      const code = e instanceof TandemError ? e.code : 'INTERNAL';
      if (code === 'INTERNAL') this.opts.log.error({ err: e, roomId }, 'yjs authorization failed');
      refuseUpgrade(socket, code, e instanceof Error ? e.message : 'refused');
      return;
    }
    if (this.closed || socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.peers.set(ws, peer);
      this.connect(ws, roomId);
    });
  }

  /**
   * Re-decides every live connection of a room after roles changed: `check` returns the peer's new
   * standing, or null to close it (removed, revoked). The next message is judged by the new standing.
   */
  revalidate(roomId: string, check: (memberId: string) => YjsPeer | null): void {
    const room = this.docs.get(roomId);
    if (!room) return;
    for (const ws of room.conns.keys()) {
      const peer = this.peers.get(ws);
      const next = peer ? check(peer.memberId) : null;
      if (next) this.peers.set(ws, next);
      else ws.close(4403, 'FORBIDDEN');
    }
  }

  /** Closes every connection whose peer `match` picks (a session signed out); returns how many. */
  closeWhere(match: (peer: YjsPeer) => boolean): number {
    let n = 0;
    for (const room of this.docs.values())
      for (const ws of room.conns.keys()) {
        const peer = this.peers.get(ws);
        if (peer && match(peer)) {
          ws.close(4401, 'UNAUTHORIZED');
          n++;
        }
      }
    return n;
  }

  /** The room's keyboard control (loaded from its document the first time). */
  control(roomId: string): ControlState {
    return this.controls.get(roomId) ?? this.withRoom(roomId, () => this.controls.get(roomId)!);
  }

  /** Sets the control state and writes it into the document, where every client sees it. */
  setControl(roomId: string, state: ControlState): void {
    this.controls.set(roomId, state);
    this.withRoom(roomId, (room) => writeControl(room.doc, state));
  }

  /** Runs `fn` on a room's document, loading it for the call if no client has it open. */
  private withRoom<T>(roomId: string, fn: (room: RoomDoc) => T): T {
    const open = this.docs.has(roomId);
    const room = this.room(roomId);
    try {
      return fn(room);
    } finally {
      if (!open && room.conns.size === 0) this.unload(roomId, room);
    }
  }

  private unload(roomId: string, room: RoomDoc): void {
    this.compact(roomId, room);
    room.awareness.destroy();
    room.doc.destroy();
    this.docs.delete(roomId);
  }

  private room(roomId: string): RoomDoc {
    let r = this.docs.get(roomId);
    if (r) return r;
    const doc = new Y.Doc({ gc: true });
    // Loads the stored updates before the first client syncs, and before our 'update' handler
    // exists, so loading does not store them again.
    const log = new YjsRoomLog(this.opts.db, roomId, doc, this.opts.log, this.opts);
    const awareness = new awarenessProtocol.Awareness(doc);
    awareness.setLocalState(null);
    const room: RoomDoc = { doc, awareness, conns: new Map(), log };
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      try {
        log.append(update);
      } catch (err) {
        // The room keeps working from memory; a client that has the update gives it back when it
        // syncs with a restarted server.
        this.opts.log.error({ err, roomId }, 'could not store a yjs update');
      }
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, MESSAGE_SYNC);
      syncProtocol.writeUpdate(enc, update);
      const msg = encoding.toUint8Array(enc);
      for (const ws of room.conns.keys()) if (ws !== origin) send(ws, msg);
    });
    awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      const changed = added.concat(updated, removed);
      const ids = room.conns.get(origin as WebSocket);
      if (ids) {
        for (const id of added) ids.add(id);
        for (const id of removed) ids.delete(id);
      }
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, MESSAGE_AWARENESS);
      encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(awareness, changed));
      const msg = encoding.toUint8Array(enc);
      for (const ws of room.conns.keys()) send(ws, msg);
    });
    if (!this.controls.has(roomId)) this.controls.set(roomId, parseControl(doc.getMap('control').toJSON()));
    // Only the server writes `control`; a client's edit of it is put back at once (and the
    // server enforces the keyboard from its own copy anyway, so an edit never lets anyone type).
    doc.getMap('control').observe((ev) => {
      if (ev.transaction.origin === SERVER_ORIGIN || this.closed) return;
      const want = this.controls.get(roomId);
      if (want) writeControl(doc, want);
    });
    this.docs.set(roomId, room);
    return room;
  }

  private connect(ws: WebSocket, roomId: string): void {
    let room: RoomDoc;
    try {
      room = this.room(roomId);
    } catch (err) {
      this.opts.log.error({ err, roomId }, 'could not load a yjs document');
      ws.close(1011, 'INTERNAL');
      return;
    }
    room.conns.set(ws, new Set());
    (ws as WebSocket & { alive?: boolean }).alive = true;
    ws.on('pong', () => ((ws as WebSocket & { alive?: boolean }).alive = true));
    ws.on('message', (data: Buffer) => {
      try {
        this.onMessage(ws, room, new Uint8Array(data));
      } catch (err) {
        this.opts.log.warn({ err, roomId }, 'bad yjs message');
        ws.close(1003, 'BAD_MESSAGE');
      }
    });
    ws.on('close', () => {
      if (this.closed) return; // close() has stored and dropped every room
      const ids = room.conns.get(ws);
      room.conns.delete(ws);
      if (ids?.size) awarenessProtocol.removeAwarenessStates(room.awareness, [...ids], null);
      if (room.conns.size === 0) this.unload(roomId, room);
    });
    // Start the sync handshake and send who is here.
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, MESSAGE_SYNC);
    syncProtocol.writeSyncStep1(enc, room.doc);
    send(ws, encoding.toUint8Array(enc));
    const states = [...room.awareness.getStates().keys()];
    if (states.length) {
      const a = encoding.createEncoder();
      encoding.writeVarUint(a, MESSAGE_AWARENESS);
      encoding.writeVarUint8Array(a, awarenessProtocol.encodeAwarenessUpdate(room.awareness, states));
      send(ws, encoding.toUint8Array(a));
    }
  }

  private onMessage(ws: WebSocket, room: RoomDoc, data: Uint8Array): void {
    const dec = decoding.createDecoder(data);
    const type = decoding.readVarUint(dec);
    if (type === MESSAGE_SYNC) {
      // A full room still lets clients read it and delete from it; it refuses new content.
      if (room.log.full && addsContent(data)) {
        ws.close(1009, 'TOO_LARGE');
        return;
      }
      // Read-only peers (viewers) may ask for the document (step 1) but not change it.
      if (!this.peers.get(ws)?.canWrite && syncType(data) !== syncProtocol.messageYjsSyncStep1) return;
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, MESSAGE_SYNC);
      syncProtocol.readSyncMessage(dec, enc, room.doc, ws);
      if (encoding.length(enc) > 1) send(ws, encoding.toUint8Array(enc));
    } else if (type === MESSAGE_AWARENESS) {
      const update = sanitizeAwareness(decoding.readVarUint8Array(dec), this.peers.get(ws), room, ws);
      if (update) awarenessProtocol.applyAwarenessUpdate(room.awareness, update, ws);
    } else {
      throw new Error(`unknown message type ${type}`);
    }
  }

  /** Stores each open room compacted (the db must still be open), then drops every connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pinger);
    for (const [roomId, r] of this.docs) {
      this.compact(roomId, r);
      for (const ws of r.conns.keys()) ws.terminate();
      r.awareness.destroy();
      r.doc.destroy();
    }
    this.docs.clear();
    this.wss.close();
  }

  private compact(roomId: string, room: RoomDoc): void {
    try {
      room.log.compact();
    } catch (err) {
      // The rows are still there; the next load compacts them.
      this.opts.log.error({ err, roomId }, 'could not compact a yjs document');
    }
  }
}

/**
 * Whether a sync message carries an update with new content. Step 1 (a state vector) does not; an
 * update or step 2 with no structs (empty, as every client answers our step 1, or only deletions) does not.
 */
function addsContent(message: Uint8Array): boolean {
  const dec = decoding.createDecoder(message);
  decoding.readVarUint(dec); // MESSAGE_SYNC
  if (decoding.readVarUint(dec) === syncProtocol.messageYjsSyncStep1) return false;
  return Y.parseUpdateMeta(decoding.readVarUint8Array(dec)).to.size > 0;
}

/**
 * Presence is only as true as the server makes it: a connection may change only the awareness
 * entries it introduced (not remove or rewrite another's), and its `user` carries the member id
 * and, for members, the name the server knows, whatever the client claimed.
 */
function sanitizeAwareness(update: Uint8Array, peer: YjsPeer | undefined, room: RoomDoc, ws: WebSocket): Uint8Array | null {
  const dec = decoding.createDecoder(update);
  const n = decoding.readVarUint(dec);
  const enc = encoding.createEncoder();
  const kept: [number, number, string][] = [];
  for (let i = 0; i < n; i++) {
    const clientId = decoding.readVarUint(dec);
    const clock = decoding.readVarUint(dec);
    let json = decoding.readVarString(dec);
    let owner: WebSocket | undefined;
    for (const [c, ids] of room.conns) if (ids.has(clientId)) owner = c;
    if (owner && owner !== ws) continue;
    const state = JSON.parse(json) as { user?: Record<string, unknown> } | null;
    if (state && typeof state.user === 'object' && state.user !== null && peer) {
      state.user = { ...state.user, memberId: peer.memberId, ...(peer.name ? { name: peer.name } : {}) };
      json = JSON.stringify(state);
    }
    kept.push([clientId, clock, json]);
  }
  if (!kept.length) return null;
  encoding.writeVarUint(enc, kept.length);
  for (const [c, clock, json] of kept) {
    encoding.writeVarUint(enc, c);
    encoding.writeVarUint(enc, clock);
    encoding.writeVarString(enc, json);
  }
  return encoding.toUint8Array(enc);
}

function syncType(message: Uint8Array): number {
  const dec = decoding.createDecoder(message);
  decoding.readVarUint(dec); // MESSAGE_SYNC
  return decoding.readVarUint(dec);
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

/** Answers a refused upgrade with a JSON error and closes: the client never gets a byte of the document. */
function send(ws: WebSocket, msg: Uint8Array): void {
  if (ws.readyState === ws.OPEN) ws.send(msg, (err) => err && ws.terminate());
}
