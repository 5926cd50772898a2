import type { WebSocket } from 'ws';
import * as Y from 'yjs';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';

/** y-websocket's message types. */
export const MESSAGE_SYNC = 0;
export const MESSAGE_AWARENESS = 1;

/** A sync message carrying one document update. */
export function updateMessage(update: Uint8Array): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, MESSAGE_SYNC);
  syncProtocol.writeUpdate(enc, update);
  return encoding.toUint8Array(enc);
}

/** The first step of the sync handshake: our state vector. */
export function syncStep1Message(doc: Y.Doc): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, MESSAGE_SYNC);
  syncProtocol.writeSyncStep1(enc, doc);
  return encoding.toUint8Array(enc);
}

export function awarenessMessage(awareness: awarenessProtocol.Awareness, clients: number[]): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(awareness, clients));
  return encoding.toUint8Array(enc);
}

/**
 * Whether a sync message carries an update with new content. Step 1 (a state vector) does not; an
 * update or step 2 with no structs (empty, as every client answers our step 1, or only deletions) does not.
 */
export function addsContent(message: Uint8Array): boolean {
  const dec = decoding.createDecoder(message);
  decoding.readVarUint(dec); // MESSAGE_SYNC
  if (decoding.readVarUint(dec) === syncProtocol.messageYjsSyncStep1) return false;
  return Y.parseUpdateMeta(decoding.readVarUint8Array(dec)).to.size > 0;
}

export function syncType(message: Uint8Array): number {
  const dec = decoding.createDecoder(message);
  decoding.readVarUint(dec); // MESSAGE_SYNC
  return decoding.readVarUint(dec);
}

/**
 * Bytes of updates the document holds without applying them (their dependencies are missing).
 * Yjs keeps these in memory, unbounded, and merges each new one into them.
 */
export function pendingBytes(doc: Y.Doc): number {
  return (doc.store.pendingStructs?.update.byteLength ?? 0) + (doc.store.pendingDs?.byteLength ?? 0);
}

/** Forgets what the document holds pending (the sender that caused it is being closed). */
export function dropPending(doc: Y.Doc): void {
  doc.store.pendingStructs = null;
  doc.store.pendingDs = null;
}

export function send(ws: WebSocket, msg: Uint8Array): void {
  if (ws.readyState === ws.OPEN) ws.send(msg, (err) => err && ws.terminate());
}
