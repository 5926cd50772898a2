import type { WebSocket } from 'ws';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import type { RoomDoc } from './YjsDocs';

/**
 * Presence is only as true as the server makes it: a connection may change only the awareness
 * entries it introduced (not remove or rewrite another's), and its `user` carries the member id
 * and, for members, the name the server knows, whatever the client claimed.
 */
export function sanitizeAwareness(update: Uint8Array, peer: { memberId: string; name?: string | null } | undefined, room: RoomDoc, ws: WebSocket): Uint8Array | null {
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
