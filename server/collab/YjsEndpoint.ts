import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import * as Y from 'yjs';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import type { Logger } from 'pino';
import { ROOM_ID_RE } from '../../lib/shared/protocol';
import { TandemError } from '../../lib/shared/errors';
import { pathSegments } from '../http/router';
import { refuseUpgrade } from '../http/refuseUpgrade';
import type { RoomDoc, YjsDocs } from './YjsDocs';
import { sanitizeAwareness } from './yjsAwareness';
import { MESSAGE_AWARENESS, MESSAGE_SYNC, addsContent, awarenessMessage, dropPending, pendingBytes, send, syncStep1Message, syncType } from './yjsWire';
import { LogThrottle } from '../log';

const badMessageLog = new LogThrottle();

/** One Yjs websocket message; presence and notes are small. */
export const MAX_YJS_MESSAGE_BYTES = 512 * 1024;
/**
 * Updates whose dependencies are missing are held by Yjs in memory, and each new one is merged
 * into them (seconds of CPU for a few MB). One connection may cause at most this many pending
 * bytes, a document hold at most MAX_YJS_PENDING_BYTES_PER_DOC; beyond either, or beyond the
 * document's cap counting them, the sender is closed and the pending updates dropped. An honest
 * client sends updates in order, so it never has more than a message pending.
 */
export const MAX_YJS_PENDING_BYTES_PER_CONN = 64 * 1024;
export const MAX_YJS_PENDING_BYTES_PER_DOC = 256 * 1024;
const PING_MS = 30_000;

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

interface Conn {
  peer: YjsPeer;
  alive: boolean;
  /** Pending bytes this connection's messages added to its document. */
  pending: number;
}

/**
 * The y-websocket endpoint at /yjs/<roomId>: shared state that is naturally a CRDT (presence,
 * who holds the keyboard, notes). Terminal bytes never go here. Connections are checked before
 * the websocket upgrade, so a refused client never receives a byte of a document. The documents
 * themselves are YjsDocs'.
 */
export class YjsEndpoint {
  private wss = new WebSocketServer({ noServer: true, maxPayload: MAX_YJS_MESSAGE_BYTES });
  private conns = new WeakMap<WebSocket, Conn>();
  private pinger: ReturnType<typeof setInterval>;

  constructor(private o: { docs: YjsDocs; roomExists: (id: string) => boolean; authorize?: YjsAuthorizer; log: Logger }) {
    this.pinger = setInterval(() => this.ping(), PING_MS).unref();
  }

  /** Handles an HTTP upgrade for /yjs/*; returns false when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    if (!url.pathname.startsWith('/yjs/')) return false;
    const segments = pathSegments(url.pathname);
    const roomId = segments.length === 2 ? segments[1] : '';
    if (!ROOM_ID_RE.test(roomId) || !this.o.roomExists(roomId)) {
      refuseUpgrade(socket, 'ROOM_NOT_FOUND', 'no such room');
      return true;
    }
    void this.authorizeThenUpgrade(req, socket, head, roomId);
    return true;
  }

  private async authorizeThenUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, roomId: string): Promise<void> {
    let peer: YjsPeer;
    try {
      peer = this.o.authorize ? await this.o.authorize(req, roomId) : { memberId: 'anonymous', canWrite: true };
    } catch (e) {
      if (!(e instanceof TandemError)) this.o.log.error({ err: e, roomId }, 'yjs authorization failed');
      refuseUpgrade(socket, e instanceof TandemError ? e.code : 'INTERNAL', e instanceof TandemError ? e.message : 'internal error');
      return;
    }
    // The client may have gone (reset) while we waited.
    if (this.o.docs.isClosed || socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connect(ws, roomId, peer));
  }

  /**
   * Re-decides every live connection of a room after roles changed: `check` returns the peer's new
   * standing, or null to close it (removed, revoked). The next message is judged by the new standing.
   */
  revalidate(roomId: string, check: (memberId: string) => YjsPeer | null): void {
    const room = this.o.docs.get(roomId);
    if (!room) return;
    for (const ws of room.conns.keys()) {
      const conn = this.conns.get(ws);
      const next = conn ? check(conn.peer.memberId) : null;
      if (next && conn) conn.peer = next;
      else ws.close(4403, 'FORBIDDEN');
    }
  }

  /** Closes every connection whose peer `match` picks (a session signed out); returns how many. */
  closeWhere(match: (peer: YjsPeer) => boolean): number {
    let n = 0;
    for (const ws of this.wss.clients) {
      const conn = this.conns.get(ws);
      if (conn && match(conn.peer)) {
        ws.close(4401, 'UNAUTHORIZED');
        n++;
      }
    }
    return n;
  }

  close(): void {
    clearInterval(this.pinger);
    this.o.docs.close();
    this.wss.close();
  }

  private connect(ws: WebSocket, roomId: string, peer: YjsPeer): void {
    // An oversize frame or a reset is an 'error' on the socket: never a process-level one.
    ws.on('error', (err) => this.o.log.debug({ err, roomId }, 'yjs socket error'));
    let room: RoomDoc;
    try {
      room = this.o.docs.open(roomId);
    } catch (err) {
      this.o.log.error({ err, roomId }, 'could not load a yjs document');
      ws.close(1011, 'INTERNAL');
      return;
    }
    const conn: Conn = { peer, alive: true, pending: 0 };
    this.conns.set(ws, conn);
    room.conns.set(ws, new Set());
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data: Buffer) => {
      try {
        this.onMessage(ws, conn, room, new Uint8Array(data));
      } catch (err) {
        // Anyone can send junk: a few lines a minute, without stack traces, and a count of the rest.
        const t = badMessageLog.allow('bad yjs message');
        if (t.ok) this.o.log.warn({ err: String(err), roomId, suppressed: t.suppressed }, 'bad yjs message');
        ws.close(1003, 'BAD_MESSAGE');
      }
    });
    ws.on('close', () => {
      if (this.o.docs.isClosed) return; // close() has stored and dropped every room
      const ids = room.conns.get(ws);
      room.conns.delete(ws);
      if (ids?.size) awarenessProtocol.removeAwarenessStates(room.awareness, [...ids], null);
      this.o.docs.release(roomId);
    });
    // Start the sync handshake and send who is here.
    send(ws, syncStep1Message(room.doc));
    const states = [...room.awareness.getStates().keys()];
    if (states.length) send(ws, awarenessMessage(room.awareness, states));
  }

  private onMessage(ws: WebSocket, conn: Conn, room: RoomDoc, data: Uint8Array): void {
    const dec = decoding.createDecoder(data);
    const type = decoding.readVarUint(dec);
    if (type === MESSAGE_SYNC) {
      // A full room still lets clients read it and delete from it; it refuses new content.
      if (room.log.full && addsContent(data)) {
        ws.close(1009, 'TOO_LARGE');
        return;
      }
      // Read-only peers (viewers) may ask for the document (step 1) but not change it.
      if (!conn.peer.canWrite && syncType(data) !== syncProtocol.messageYjsSyncStep1) return;
      const before = pendingBytes(room.doc);
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, MESSAGE_SYNC);
      readSync(dec, enc, room, ws);
      this.checkPending(ws, conn, room, before);
      if (encoding.length(enc) > 1) send(ws, encoding.toUint8Array(enc));
    } else if (type === MESSAGE_AWARENESS) {
      const update = sanitizeAwareness(decoding.readVarUint8Array(dec), conn.peer, room, ws);
      if (update) awarenessProtocol.applyAwarenessUpdate(room.awareness, update, ws);
    } else {
      throw new Error(`unknown message type ${type}`);
    }
  }

  /** Pending updates count against the sender, the document's pending cap and the document's byte cap. */
  private checkPending(ws: WebSocket, conn: Conn, room: RoomDoc, before: number): void {
    const after = pendingBytes(room.doc);
    if (after > before) conn.pending += after - before;
    if (after === 0) return;
    if (conn.pending > MAX_YJS_PENDING_BYTES_PER_CONN || after > MAX_YJS_PENDING_BYTES_PER_DOC || room.log.wouldOverflow(after)) {
      this.o.log.warn({ memberId: conn.peer.memberId, pendingBytes: after }, 'yjs updates with missing dependencies over the cap: closing the sender');
      dropPending(room.doc);
      ws.close(1009, 'TOO_LARGE');
    }
  }

  private ping(): void {
    for (const ws of this.wss.clients) {
      const conn = this.conns.get(ws);
      if (!conn) continue;
      if (!conn.alive) {
        ws.terminate();
        continue;
      }
      conn.alive = false;
      ws.ping();
    }
  }
}

/**
 * y-protocols' readSyncMessage, except that an update that does not decode throws to our message
 * handler (the sender is closed with BAD_MESSAGE and it is logged, throttled) instead of being
 * swallowed with a console.error, as y-protocols does.
 */
function readSync(dec: decoding.Decoder, enc: encoding.Encoder, room: RoomDoc, origin: WebSocket): void {
  const kind = decoding.readVarUint(dec);
  if (kind === syncProtocol.messageYjsSyncStep1) syncProtocol.readSyncStep1(dec, enc, room.doc);
  else if (kind === syncProtocol.messageYjsSyncStep2 || kind === syncProtocol.messageYjsUpdate) {
    Y.applyUpdate(room.doc, decoding.readVarUint8Array(dec), origin);
  } else throw new Error(`unknown sync message type ${kind}`);
}
