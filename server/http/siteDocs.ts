import { z } from 'zod';
import type { RouteDoc } from './routeDoc';

/** The OpenAPI entries of the site's JSON routes (server/http/routes.ts puts each beside its route). */
const manifestSchema = z
  .object({
    version: z.string().describe('Changes whenever the guest does (boot snapshots are keyed by it).'),
    engine: z.literal('v86'),
    memoryMB: z.number().int(),
    bios: z.string(),
    vgaBios: z.string(),
    bzimage: z.string(),
    initrd: z.string().optional(),
    cmdline: z.string(),
    disk: z.object({ url: z.string(), size: z.number().int(), version: z.string(), name: z.string() }).optional(),
    diskError: z.string().optional(),
    wasm: z.string(),
    lib: z.string(),
    net: z.object({ mtu: z.number().int() }).optional(),
    engineChoice: z.enum(['auto', 'cheerpx', 'v86']),
    cheerpxDisk: z.string(),
  })
  .describe("The guest a room's VM boots and the files it needs (URLs under /vm/).");

export const siteDocs = {
  health: {
    tag: 'site',
    auth: 'none',
    summary: 'Liveness: the protocol version, the guest, uptime and live rooms',
    responses: { 200: { description: 'Up.', schema: z.object({ ok: z.literal(true), protocol: z.number().int(), guest: z.string(), uptimeMs: z.number(), rooms: z.number().int() }) } },
  },
  manifest: {
    tag: 'site',
    auth: 'none',
    summary: "The VM's manifest: what the page boots",
    query: z.object({ room: z.string().optional().describe("The room (its engine and guest settings)."), guest: z.enum(['bundled']).optional().describe('bundled: the small BusyBox guest.') }),
    responses: { 200: { description: 'The manifest.', schema: manifestSchema } },
  },
  openapi: { tag: 'site', auth: 'none', summary: 'This document (OpenAPI 3.1)', responses: { 200: { description: 'OpenAPI 3.1' } } },
} satisfies Record<string, RouteDoc>;
