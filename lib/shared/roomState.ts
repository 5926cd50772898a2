/**
 * A room's VM state on the server (issue 11, "room state"): what the host uploads and the next host
 * restores. Both sides import this file: the manifest's schema, the chunk pack codec and the caps.
 *
 * A state is a manifest plus content-addressed chunks (sha256, hex), stored per room:
 * - `vm`: the gzip'd v86 state (RAM, devices), cut into VM_CHUNK_BYTES pieces. Its disk part holds
 *   no pages: those travel as `overlay` entries instead.
 * - `overlay`: the written 4 KiB pages of the copy-on-write disk overlay, each a chunk of its own,
 *   as a delta against the server's disk image (its version is in the manifest). An unchanged page
 *   hashes the same, so the server already has it and it is never sent twice.
 */
import { z } from 'zod';
import { MAX_HASHES_PER_REQUEST, MAX_STATE_PAGES, MAX_STATE_VM_CHUNKS, ROOM_STATE_FORMAT } from './roomStatePack';

export * from './roomStatePack';

export const chunkHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a chunk hash is 64 lowercase hex digits (sha256)');
const versionSchema = z.string().regex(/^[0-9a-f-]{4,64}$/);

export const roomStateManifestSchema = z
  .object({
    format: z.literal(ROOM_STATE_FORMAT),
    /** GuestManifest.version: kernel, BIOS, v86 and disk. A state never restores into another. */
    guestVersion: z.string().regex(/^[0-9a-f]{16}$/),
    /** The disk image the overlay is a delta against; null for the small guest (no disk). */
    diskVersion: versionSchema.nullable(),
    /** The uploading browser's overlay id (OverlayDisk meta): its own later writes continue it. */
    overlayId: z.string().max(64).nullable(),
    /** The overlay's persisted generation when the state was captured. */
    overlayGeneration: z.number().int().min(0),
    vm: z.object({ chunks: z.array(chunkHashSchema).min(1).max(MAX_STATE_VM_CHUNKS), bytes: z.number().int().positive() }),
    /**
     * Set by a closing page's final state (lib/browser/room/finalState.ts): that browser, opening
     * the room again, knows the state is its own newest and restores it instead of its older local copy.
     */
    captureId: z.string().max(64).optional(),
    /** [page index, written-units mask (16 bits), page hash]. */
    pages: z.array(z.tuple([z.number().int().min(0), z.number().int().min(1).max(0xffff), chunkHashSchema])).max(MAX_STATE_PAGES),
  })
  .strict();
export type RoomStateManifest = z.infer<typeof roomStateManifestSchema>;

/** What the server answers about a stored state. */
export interface RoomStateInfo {
  id: string;
  createdAt: number;
  bytes: number;
  manifest: RoomStateManifest;
}

export const hashListSchema = z.object({ hashes: z.array(chunkHashSchema).max(MAX_HASHES_PER_REQUEST) }).strict();
