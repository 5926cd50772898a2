import { z } from 'zod';
import { hashListSchema, MAX_PACK_BYTES, roomStateManifestSchema } from '../../lib/shared/roomState';
import type { RouteDoc } from '../http/routeDoc';
import { roomIdParam } from '../commands/apiSchemas';

/**
 * The OpenAPI entries of the room-state routes (server/http/routes.ts puts each beside its route).
 * Uploads carry the host key the relay gave the room's host (`x-host-key`); reads need the host right.
 */
const hostKey = z.object({ 'x-host-key': z.string().optional().describe("The key in the host's room:state (hostKey); uploads need it.") });
const base = { tag: 'rooms', auth: ['session', 'none'], params: { id: roomIdParam }, headers: hostKey } as const;
const saved = z.object({ id: z.string(), createdAt: z.union([z.string(), z.number()]), bytes: z.number().int() });

export const roomStateDocs = {
  latest: {
    ...base,
    summary: "The room's latest VM state: its manifest (the page restores the VM from it)",
    responses: { 200: { description: 'The manifest.', schema: roomStateManifestSchema }, 204: { description: 'No state saved yet.' } },
    errors: [403, 404],
  },
  commit: {
    ...base,
    summary: 'Save the VM state: the manifest, once every chunk it names is here (the host)',
    body: roomStateManifestSchema,
    responses: { 201: { description: 'Saved.', schema: saved } },
    errors: [403, 404, 409],
  },
  missing: {
    ...base,
    summary: 'Which of these chunks the server does not have yet (the host, before uploading)',
    body: hashListSchema,
    responses: { 200: { description: 'The hashes to send.', schema: z.object({ missing: z.array(z.string()) }) } },
    errors: [403, 404],
  },
  chunks: {
    ...base,
    summary: 'Upload a pack of chunks (the host)',
    rawBody: { media: 'application/octet-stream', description: `A chunk pack, at most ${MAX_PACK_BYTES} bytes (lib/shared/roomState.ts).` },
    responses: { 200: { description: 'Stored.', schema: z.object({ stored: z.number().int(), bytes: z.number().int() }) } },
    errors: [403, 404],
  },
  read: {
    ...base,
    summary: 'Download a pack of these chunks (whoever may host)',
    body: hashListSchema,
    responses: { 200: { description: 'A chunk pack.', media: 'application/octet-stream' } },
    errors: [403, 404],
  },
} satisfies Record<string, RouteDoc>;
