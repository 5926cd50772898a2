import type { GuestManifest } from '../../shared/GuestManifest';
import type { BootProgress } from './Engine';
import type { OverlayDisk } from './OverlayDisk';
import { OverlayIdbStore } from './OverlayIdbStore';
import type { RoomStateSync } from './RoomStateSync';
import { deleteSnapshot, loadSnapshot } from './snapshotStore';
import { bootMark } from './bootMarks';

/** Where a restored state came from: this browser, the server's boot snapshot, or the room's saved VM. */
export type StateSource = 'local' | 'server' | 'room';

export interface FoundState {
  state: ArrayBuffer;
  source: StateSource;
  /** This browser's snapshot it came from (dropped when it does not restore). */
  key?: string;
}

/** Where this browser keeps a VM's snapshots (IndexedDB keys, see snapshotStore). */
export function snapshotKeys(manifest: GuestManifest, diskKey = 'default:main'): { room: string; auto: string } {
  // This room's tab's own snapshot (Reset VM deletes it).
  const room = `v86:room:${diskKey}:${manifest.version}`;
  // The automatic snapshot: with a disk per room and tab like the overlay it belongs to; without, one clean boot per guest version.
  return { room, auto: manifest.disk ? room : `v86:${manifest.version}` };
}

/** The server's trusted boot snapshot of a guest version (content-addressed by the version). */
export const trustedSnapshotUrl = (version: string) => `/vm/boot-snapshot/${version}`;

export interface BootStateInput {
  manifest: GuestManifest;
  /** The opened disk of this boot (null for the initrd guest). */
  disk: OverlayDisk | null;
  keys: { room: string; auto: string };
  /** The IndexedDB key of this tab's overlay (see V86Engine.overlayKey). */
  overlayKey: string;
  room: RoomStateSync | null;
  /** The trusted boot snapshot's download, started with the boot (see fetchTrusted); dropped here when it cannot fit. */
  trusted?: TrustedFetch | null;
  /** A new, opened disk over what storage holds now (after the overlay was replaced). */
  reopenDisk(): Promise<OverlayDisk | null>;
  notice?: (text: string) => void;
  onProgress(p: BootProgress): void;
}

/**
 * Which state a boot restores, newest first: the room's saved VM on the server when this browser
 * does not have it, else this browser's own snapshot, else the server's trusted boot snapshot,
 * else none (a cold boot). Resolves with the disk to boot with: restoring the room's state
 * replaces the overlay (and so the disk).
 */
export async function chooseBootState(b: BootStateInput): Promise<{ found: FoundState | null; disk: OverlayDisk | null }> {
  // Only an empty overlay (a new room, or a browser new to it) can take the trusted boot snapshot;
  // its download runs beside the room-state check and is dropped when something newer wins.
  const trusted = b.disk && !b.disk.isEmpty ? null : (b.trusted ?? null);
  if (!trusted) b.trusted?.abort();
  try {
    const room = b.room ? await roomState(b, trusted) : null;
    if (room) return room;
    return { found: await localOrTrusted(b.manifest, b.disk, b.keys, trusted), disk: b.disk };
  } finally {
    trusted?.abort();
  }
}

export interface TrustedFetch {
  state: Promise<ArrayBuffer | null>;
  abort(): void;
}

/**
 * The server's trusted boot snapshot, unzipped while it downloads; null when none is published
 * (or it failed, or was aborted). Served immutable (its URL names the guest version), so a browser
 * that fetched it once reads its cache.
 */
export function fetchTrusted(version: string): TrustedFetch {
  const ac = new AbortController();
  const state = (async () => {
    const r = await fetch(trustedSnapshotUrl(version), { signal: ac.signal });
    if (r.status !== 200 || !r.body) return null;
    const state = await new Response(r.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
    bootMark('trusted-unzipped', { bytes: state.byteLength });
    return state;
  })().catch(() => null); // none published yet, or dropped
  return { state, abort: () => ac.abort() };
}

/**
 * The room's newest state, its pages put into a fresh overlay (the old one dropped) before the VM
 * restores. Null when there is none newer; a failed download says so and boots from what this
 * browser has.
 */
async function roomState(b: BootStateInput, trusted: TrustedFetch | null): Promise<{ found: FoundState | null; disk: OverlayDisk | null } | null> {
  const info = await b.room!.newer(b.disk);
  if (!info) return null;
  // The room's state wins: the boot snapshot's download stops now rather than share the bandwidth
  // with this one (should this one fail, localOrTrusted fetches the snapshot again if it still fits).
  trusted?.abort();
  console.info(`[tandem] restoring the room's saved VM ${info.id} (${Math.round(info.bytes / 2 ** 20)} MiB)`);
  try {
    b.onProgress({ phase: 'loading', progress: 0.03, message: 'Downloading the room’s saved VM' });
    const { state, pages } = await b.room!.download(info);
    let disk = b.disk;
    if (disk) {
      await disk.close();
      const store = new OverlayIdbStore(b.overlayKey);
      await store.clear();
      const id = crypto.randomUUID();
      await store.put({ id, diskVersion: b.manifest.disk!.version, generation: 1 }, pages.map(([i, data, mask]) => [i, { data, mask }]));
      store.close();
      await deleteSnapshot(b.keys.room); // belongs to the overlay just replaced
      disk = await b.reopenDisk();
    }
    return { found: { state, source: 'room' }, disk };
  } catch (e) {
    b.notice?.(`The room's saved VM could not be loaded (${e instanceof Error ? e.message : String(e)}); starting from this browser's copy instead.`);
    // The old disk may be closed already (the failure came while replacing the overlay): a fresh one reads what storage holds.
    if (!b.disk) return null;
    await b.disk.close().catch(() => {});
    const disk = await b.reopenDisk();
    return { found: await localOrTrusted(b.manifest, disk, b.keys, null), disk };
  }
}

/**
 * This browser's own snapshot, else the server's trusted one, else null (cold boot).
 *
 * With a root disk, a RAM snapshot holds the guest's page cache: restoring it over a disk that
 * changed since would mix two filesystems and corrupt it. So a local snapshot is restored only
 * when the overlay is exactly as it was (same overlay id and persisted generation, its `tag`),
 * and the server's boot snapshot only into an empty overlay (a new room, or after a reset).
 * Otherwise the VM boots cold from the overlay, which is always consistent on its own: the
 * guest sees a disk after a clean `sync` or, at worst, after a crash. Writes since the snapshot
 * are the usual case (a user did something), so reloads after work boot cold; a boot takes seconds.
 */
async function localOrTrusted(
  manifest: GuestManifest,
  disk: OverlayDisk | null,
  keys: { room: string; auto: string },
  trusted: TrustedFetch | null,
): Promise<FoundState | null> {
  // This room's own (with a disk, every snapshot; without one, a "Save VM").
  const local = await loadSnapshot(keys.room);
  if (local && (!disk || local.tag === disk.stateTag)) return { state: local.state, source: 'local', key: keys.room };
  if (local) await deleteSnapshot(keys.room); // the disk moved on: this snapshot can never fit again
  if (disk && !disk.isEmpty) return null;
  if (!disk) {
    const booted = await loadSnapshot(keys.auto);
    if (booted) return { state: booted.state, source: 'local', key: keys.auto };
  }
  const state = await (trusted ?? fetchTrusted(manifest.version)).state;
  return state ? { state, source: 'server' } : null;
}
