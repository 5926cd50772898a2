import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import * as Y from 'yjs';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import type { Logger } from 'pino';
import { ROOM_ID_RE } from '../../lib/protocol';

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
/** One Yjs websocket message; presence and notes are small. */
export const MAX_YJS_MESSAGE_BYTES = 512 * 1024;
/** A room's document beyond this is refused further updates (notes are not a file store). */
export const MAX_YJS_DOC_BYTES = 4 * 1024 * 1024;
const PING_MS = 30_000;

interface RoomDoc {
  doc: Y.Doc;
  awareness: awarenessProtocol.Awareness;
  conns: Map<WebSocket, Set<number>>;
}

/**
 * The y-websocket endpoint at /yjs/<roomId>: shared state that is naturally a CRDT (presence,
 * who holds the keyboard, notes). Terminal bytes never go here. Connections are checked before
 * the websocket upgrade, so a refused client never receives a byte of a document.
 */
export class YjsHub {
  private wss = new WebSocketServer({ noServer: true, maxPayload: MAX_YJS_MESSAGE_BYTES });
  private docs = new Map<string, RoomDoc>();
  private pinger: ReturnType<typeof setInterval>;

  constructor(private opts: { roomExists: (id: string) => boolean; log: Logger }) {
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
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":{"code":"ROOM_NOT_FOUND","message":"no such room"}}');
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connect(ws, roomId));
    return true;
  }

  private room(roomId: string): RoomDoc {
    let r = this.docs.get(roomId);
    if (r) return r;
    const doc = new Y.Doc({ gc: true });
    const awareness = new awarenessProtocol.Awareness(doc);
    awareness.setLocalState(null);
    const room: RoomDoc = { doc, awareness, conns: new Map() };
    doc.on('update', (update: Uint8Array, origin: unknown) => {
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
    this.docs.set(roomId, room);
    return room;
  }

  private connect(ws: WebSocket, roomId: string): void {
    const room = this.room(roomId);
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
      const ids = room.conns.get(ws);
      room.conns.delete(ws);
      if (ids?.size) awarenessProtocol.removeAwarenessStates(room.awareness, [...ids], null);
      if (room.conns.size === 0) {
        room.awareness.destroy();
        room.doc.destroy();
        this.docs.delete(roomId);
      }
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
      if (Y.encodeStateAsUpdate(room.doc).length > MAX_YJS_DOC_BYTES) {
        ws.close(1009, 'TOO_LARGE');
        return;
      }
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, MESSAGE_SYNC);
      syncProtocol.readSyncMessage(dec, enc, room.doc, ws);
      if (encoding.length(enc) > 1) send(ws, encoding.toUint8Array(enc));
    } else if (type === MESSAGE_AWARENESS) {
      awarenessProtocol.applyAwarenessUpdate(room.awareness, decoding.readVarUint8Array(dec), ws);
    } else {
      throw new Error(`unknown message type ${type}`);
    }
  }

  close(): void {
    clearInterval(this.pinger);
    for (const r of this.docs.values()) for (const ws of r.conns.keys()) ws.terminate();
    this.docs.clear();
    this.wss.close();
  }
}

function send(ws: WebSocket, msg: Uint8Array): void {
  if (ws.readyState === ws.OPEN) ws.send(msg, (err) => err && ws.terminate());
}
