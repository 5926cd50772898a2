import { MAX_PACK_BYTES, ROOM_STATE_FORMAT, VM_CHUNK_BYTES, decodePack, encodePack, packs, toHex } from '../../shared/roomStatePack';
// Types only: the schemas' module (and zod) stays out of the final-state worker's bundle.
import type { RoomStateInfo, RoomStateManifest } from '../../shared/roomState';

/** How the page reaches its room's state on the server (see server/roomstate/roomStateRoutes.ts). */
export interface RoomStateLink {
  room: string;
  /** The key the relay gave this page as host (uploads); undefined while it is not the host. */
  hostKey(): string | undefined;
  /** The server's headless host proves itself with its host token (reads). */
  hostToken?: string;
  /** A leaving host's final state (lib/browser/room/finalState.ts): its commit ends the next host's wait for it. */
  final?: boolean;
}

/** A capture made where nothing can be awaited (a closing page): the v86 state not yet gzip'd. */
export interface RawRoomStateCapture extends Omit<RoomStateCapture, 'vmGz'> {
  state: ArrayBuffer;
}

/** What a capture of the running VM gives to upload. */
export interface RoomStateCapture {
  /** The gzip'd v86 state, without its disk pages. */
  vmGz: ArrayBuffer;
  pages: [number, Uint8Array, number][];
  guestVersion: string;
  diskVersion: string | null;
  overlayId: string | null;
  overlayGeneration: number;
  /** A closing page's final state (RoomStateManifest.captureId). */
  captureId?: string;
}

async function sha256(data: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>)));
}

async function errorOf(r: Response): Promise<Error> {
  const body = (await r.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  return Object.assign(new Error(body?.error?.message ?? `HTTP ${r.status}`), { code: body?.error?.code, status: r.status });
}

/**
 * Uploads this room's VM state (only chunks the server lacks: an upload cut short resumes where it
 * stopped, and an unchanged disk page is never sent twice) and downloads the newest one.
 */
export class RoomStateClient {
  constructor(private link: RoomStateLink) {}

  get room(): string {
    return this.link.room;
  }

  /** Whether this page can hash (crypto.subtle needs a secure context: https or localhost). */
  static get available(): boolean {
    return typeof crypto !== 'undefined' && !!crypto.subtle;
  }

  private get base(): string {
    return `/api/rooms/${encodeURIComponent(this.link.room)}/state`;
  }

  private headers(json = false): Record<string, string> {
    const h: Record<string, string> = {};
    const key = this.link.hostKey();
    if (key) h['x-host-key'] = key;
    if (this.link.hostToken) h['x-host-token'] = this.link.hostToken;
    if (this.link.final) h['x-final-state'] = '1';
    if (json) h['content-type'] = 'application/json';
    return h;
  }

  /** The room's newest state, or null when it has none (or this page may not read it). */
  async latest(): Promise<RoomStateInfo | null> {
    const r = await fetch(this.base, { headers: this.headers(), cache: 'no-store' });
    if (r.status === 204 || r.status === 403) return null;
    if (!r.ok) throw await errorOf(r);
    return (await r.json()) as RoomStateInfo;
  }

  /** Every chunk of `info`: the VM state (still gzip'd) and the disk pages. */
  async download(info: RoomStateInfo): Promise<{ vmGz: ArrayBuffer; pages: [number, Uint8Array, number][] }> {
    const m = info.manifest;
    const want = [...new Set([...m.vm.chunks, ...m.pages.map((p) => p[2])])];
    const got = new Map<string, Uint8Array>();
    // Asked for in groups the server answers in one pack each.
    const perRequest = Math.max(1, Math.floor((MAX_PACK_BYTES * 4) / VM_CHUNK_BYTES));
    const vmSet = new Set(m.vm.chunks);
    const groups: string[][] = [];
    let cur: string[] = [];
    let size = 0;
    for (const h of want) {
      const n = vmSet.has(h) ? VM_CHUNK_BYTES : 4096;
      if (cur.length && size + n > perRequest * VM_CHUNK_BYTES) {
        groups.push(cur);
        cur = [];
        size = 0;
      }
      cur.push(h);
      size += n;
    }
    if (cur.length) groups.push(cur);
    for (const hashes of groups) {
      const r = await fetch(`${this.base}/read`, { method: 'POST', headers: this.headers(true), body: JSON.stringify({ hashes }) });
      if (!r.ok) throw await errorOf(r);
      for (const c of decodePack(new Uint8Array(await r.arrayBuffer()))) {
        if ((await sha256(c.data)) !== c.hash) throw new Error('a piece of the saved VM arrived damaged');
        // A copy of its own: a view would drag the whole response buffer into every stored page.
        got.set(c.hash, c.data.slice());
      }
    }
    const vm = new Uint8Array(m.vm.bytes);
    let at = 0;
    for (const h of m.vm.chunks) {
      const c = got.get(h);
      if (!c) throw new Error('the server did not send every piece of the saved VM');
      vm.set(c, at);
      at += c.byteLength;
    }
    const pages = m.pages.map(([i, mask, h]): [number, Uint8Array, number] => {
      const c = got.get(h);
      if (!c) throw new Error('the server did not send every disk page of the saved VM');
      return [i, c, mask];
    });
    return { vmGz: vm.buffer, pages };
  }

  /** Sends what the server lacks and commits the state; resolves with its id and the bytes that travelled. */
  async upload(c: RoomStateCapture): Promise<{ id: string; sentBytes: number }> {
    const vm = new Uint8Array(c.vmGz);
    const vmChunks: { hash: string; data: Uint8Array }[] = [];
    for (let i = 0; i < vm.byteLength; i += VM_CHUNK_BYTES) {
      const data = vm.subarray(i, i + VM_CHUNK_BYTES);
      vmChunks.push({ hash: await sha256(data), data });
    }
    const pageChunks = await Promise.all(c.pages.map(async ([i, data, mask]) => ({ i, mask, hash: await sha256(data), data })));
    const all = [...vmChunks, ...pageChunks];
    const miss = await fetch(`${this.base}/missing`, { method: 'POST', headers: this.headers(true), body: JSON.stringify({ hashes: all.map((x) => x.hash) }) });
    if (!miss.ok) throw await errorOf(miss);
    const missing = new Set(((await miss.json()) as { missing: string[] }).missing);
    const send = all.filter((x) => missing.delete(x.hash));
    let sentBytes = 0;
    for (const group of packs(send)) {
      const body = encodePack(group);
      const r = await fetch(`${this.base}/chunks`, { method: 'POST', headers: { ...this.headers(), 'content-type': 'application/octet-stream' }, body });
      if (!r.ok) throw await errorOf(r);
      sentBytes += body.byteLength;
    }
    const manifest: RoomStateManifest = {
      format: ROOM_STATE_FORMAT,
      guestVersion: c.guestVersion,
      diskVersion: c.diskVersion,
      overlayId: c.overlayId,
      overlayGeneration: c.overlayGeneration,
      ...(c.captureId ? { captureId: c.captureId } : {}),
      vm: { chunks: vmChunks.map((x) => x.hash), bytes: vm.byteLength },
      pages: pageChunks.map((p) => [p.i, p.mask, p.hash]),
    };
    const r = await fetch(this.base, { method: 'PUT', headers: this.headers(true), body: JSON.stringify(manifest) });
    if (!r.ok) throw await errorOf(r);
    return { id: ((await r.json()) as { id: string }).id, sentBytes };
  }
}
