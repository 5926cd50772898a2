import { z } from 'zod';
import { TAB_ID_RE } from '../../lib/shared/protocol';
import type { RouteDoc } from '../http/routeDoc';
import { roomIdParam } from '../commands/apiSchemas';
import { MAX_IMPORT_CAST_BYTES } from './asciicast';
import { eventsQuerySchema, searchQuerySchema, seekQuerySchema } from './recordingRoutes';

/** The OpenAPI entries of the recordings routes (server/http/routes.ts puts each beside its route). */
const event = z
  .tuple([z.number().describe('seconds on the recording’s timeline'), z.enum(['o', 'i', 'r', 'm']), z.string()])
  .describe('An asciicast v2 event: output, input (only where the room records typing), resize ("COLSxROWS"), marker.');
const keyframe = z
  .object({ t: z.number(), seq: z.number().int(), cols: z.number().int(), rows: z.number().int(), data: z.string().describe('The serialized screen: write it into an empty terminal.') })
  .nullable();
const cursor = z.string().nullable().describe('Where to continue (GET …/events?cursor=); null at the end.');
const base = {
  tag: 'recordings',
  auth: ['session', 'none'],
  description: 'Members with at least viewer rights (session or guest cookie); anyone with the link for open rooms.',
} as const;
const room = { id: roomIdParam };
const tab = { ...room, tab: z.string().regex(TAB_ID_RE).describe('The terminal (`main` is the first).') };
const errors = [403, 404];

export const recordingDocs = {
  list: {
    ...base,
    summary: 'The room’s recorded terminals',
    operationId: 'listRecordings',
    params: room,
    responses: { 200: { description: 'Terminals with title, duration, size.', schema: z.object({ room: z.object({ id: z.string(), name: z.string() }).loose(), terminals: z.array(z.object({ tab: z.string(), title: z.string() }).loose()) }) } },
    errors,
  },
  info: { ...base, summary: 'One recorded terminal: title, duration, size', operationId: 'getRecording', params: tab, responses: { 200: { description: 'The terminal.', schema: z.object({}).loose() } }, errors },
  seek: {
    ...base,
    summary: 'The screen at a time: the keyframe at or before it and the events from it up to the time',
    operationId: 'seekRecording',
    params: tab,
    query: seekQuerySchema,
    responses: { 200: { description: 'Keyframe and events.', schema: z.object({ t: z.number(), keyframe, events: z.array(event), next: cursor }).loose() } },
    errors,
  },
  events: {
    ...base,
    summary: 'Events from a cursor (playback)',
    operationId: 'recordingEvents',
    params: tab,
    query: eventsQuerySchema,
    responses: { 200: { description: 'A page of events.', schema: z.object({ events: z.array(event), next: cursor }) } },
    errors,
  },
  marks: {
    ...base,
    summary: 'Command blocks (from the shell’s prompt marks), joins and leaves',
    operationId: 'recordingMarks',
    params: tab,
    responses: { 200: { description: 'Markers in order.', schema: z.object({ marks: z.array(z.object({ t: z.number(), kind: z.enum(['command', 'join', 'leave']), label: z.string(), exitCode: z.number().int().nullable().optional() })) }) } },
    errors,
  },
  search: {
    ...base,
    summary: 'Times where the output contains a text (within one output frame)',
    operationId: 'searchRecording',
    params: tab,
    query: searchQuerySchema,
    responses: { 200: { description: 'Matches.', schema: z.object({ q: z.string(), results: z.array(z.object({ t: z.number(), text: z.string() })) }) } },
    errors,
  },
  exportCast: {
    ...base,
    summary: 'The terminal’s recording as an asciicast v2 file (asciinema play, asciinema-player)',
    operationId: 'exportRecording',
    params: tab,
    responses: { 200: { description: 'asciicast v2', media: 'application/x-asciicast' } },
    errors,
  },
  importCast: {
    tag: 'recordings',
    auth: ['session', 'none'],
    summary: 'Import a .cast as a read-only replay room',
    description: `The body is the file (asciicast v2, at most ${MAX_IMPORT_CAST_BYTES / 2 ** 20} MiB). Signed in: a members-only room you own; signed out: an open room. Anything that is not a whole, valid asciicast v2 file is refused and nothing is stored.`,
    operationId: 'importRecording',
    rawBody: { media: 'application/x-asciicast' },
    responses: { 201: { description: 'The replay room.', schema: z.object({ room: z.object({ id: z.string(), name: z.string() }), url: z.string() }) } },
    errors: [415, 429],
  },
} satisfies Record<string, RouteDoc>;
