import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { ROOM_STATE_FORMAT, VM_CHUNK_BYTES, encodePack, type RoomStateManifest } from '../../lib/shared/roomState';
import { nextWhere, type startServer } from './startServer';

/** What the room-state integration tests do as a host page would (server/roomstate/*.integration.test.ts). */
export type Srv = Awaited<ReturnType<typeof startServer>>;

export const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
/** A gzip'd "v86 state": its magic, then `rawBytes` of noise (noise does not compress: the size is what it says). */
export function vmState(rawBytes: number, magic = 0x86768676): Buffer {
  const raw = crypto.randomBytes(rawBytes);
  raw.writeUInt32LE(magic, 0);
  return zlib.gzipSync(raw, { level: 1 });
}
export const page = (fill: number) => new Uint8Array(4096).fill(fill);

/**
 * What a host page does: ask which chunks are missing, send those in a pack, commit the manifest.
 * `extraHeaders` go on every request (e.g. a leaving host's `x-final-state`).
 */
export async function upload(srv: Srv, room: string, key: string, vm: Buffer, pages: [number, Uint8Array][], over: Partial<RoomStateManifest> = {}, extraHeaders: Record<string, string> = {}) {
  const vmChunks: Uint8Array[] = [];
  for (let i = 0; i < vm.length; i += VM_CHUNK_BYTES) vmChunks.push(vm.subarray(i, i + VM_CHUNK_BYTES));
  const all = [...vmChunks, ...pages.map((p) => p[1])].map((data) => ({ hash: sha(data), data }));
  const headers = { ...extraHeaders, 'x-host-key': key, 'content-type': 'application/json' };
  const miss = await fetch(`${srv.url}/api/rooms/${room}/state/missing`, { method: 'POST', headers, body: JSON.stringify({ hashes: all.map((c) => c.hash) }) });
  if (miss.status !== 200) return { step: 'missing', status: miss.status, body: await miss.json(), sent: 0 };
  const { missing } = (await miss.json()) as { missing: string[] };
  const send = all.filter((c) => missing.includes(c.hash));
  if (send.length) {
    const r = await fetch(`${srv.url}/api/rooms/${room}/state/chunks`, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: encodePack(send) });
    if (r.status !== 200) return { step: 'chunks', status: r.status, body: await r.json(), sent: send.length };
  }
  const manifest: RoomStateManifest = {
    format: ROOM_STATE_FORMAT,
    guestVersion: srv.server.guest.version,
    diskVersion: srv.server.guest.disk?.version ?? null,
    overlayId: 'overlay-a',
    overlayGeneration: 3,
    vm: { chunks: vmChunks.map(sha), bytes: vm.length },
    pages: pages.map(([i, d]) => [i, 0xffff, sha(d)]),
    ...over,
  };
  const c = await fetch(`${srv.url}/api/rooms/${room}/state`, { method: 'PUT', headers, body: JSON.stringify(manifest) });
  return { step: 'commit', status: c.status, body: await c.json(), sent: send.length };
}

/** A new open room with a host and a guest connected; the host's upload key. */
export async function openRoom(srv: Srv) {
  const r = await fetch(`${srv.url}/rooms/new`, { method: 'POST', body: 'name=state', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
  const room = r.headers.get('location')!.split('/').pop()!;
  const host = await srv.client(room);
  const st = await nextWhere(host, 'room:state', (s) => s.seat === 'host');
  const guest = await srv.client(room);
  await nextWhere(guest, 'room:state', (s) => s.seat === 'guest');
  return { room, host, guest, key: st.hostKey! };
}
