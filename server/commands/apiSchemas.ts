import { z } from 'zod';
import { COMMAND_STATES } from '../../drizzle/schema';
import { ROOM_ID_RE } from '../../lib/shared/protocol';
import { DEFAULT_ROOM } from '../rooms/RoomStore';
import { DEFAULT_COMMAND_TIMEOUT_MS, MAX_CMD_BYTES, MAX_COMMAND_OUTPUT_BYTES, MAX_COMMAND_TIMEOUT_MS, MAX_IDEMPOTENCY_KEY_CHARS, MIN_COMMAND_TIMEOUT_MS } from './CommandQueue';
import { API_WAIT_MS, DEFAULT_LIST_LIMIT, DEFAULT_ROOM_LIST_LIMIT, MAX_BATCH_ROOMS, MAX_LIST_LIMIT, MAX_ROOM_LIST_LIMIT, MIN_API_WAIT_MS } from './apiCaps';

/**
 * The command API's schemas: what its routes validate requests with (apiRoutes.ts) and what the
 * OpenAPI document says of requests and answers (apiDocs.ts). One source for both.
 */

/** "true"/"false" and friends, as query strings and JSON bodies both spell them. */
export const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const cmdSchema = z
  .string({ error: 'cmd is required (a string)' })
  .refine((s) => s.trim() !== '', 'cmd is required (a string)')
  .describe(`The command line(s); at most ${MAX_CMD_BYTES} bytes (UTF-8).`);
const timeoutSchema = z.coerce
  .number()
  .int()
  .min(MIN_COMMAND_TIMEOUT_MS)
  .max(MAX_COMMAND_TIMEOUT_MS, `timeoutMs is at most ${MAX_COMMAND_TIMEOUT_MS}`)
  .optional()
  .describe(`Running time allowed (default ${DEFAULT_COMMAND_TIMEOUT_MS}); then the command gets Ctrl-C and ends as \`timeout\`.`);
const waitSchema = flag.default(true).describe('Wait up to 60 s for the result (else answer 202 at once).');

export const createSchema = z
  .object({
    cmd: cmdSchema,
    room: z.string().max(200).default(DEFAULT_ROOM).describe('The room (default `default`).'),
    timeoutMs: timeoutSchema,
    wait: waitSchema,
  })
  .meta({ id: 'CommandRequest' });
/** POST /api also takes its fields from the query string (the body's win). */
export const createQuerySchema = createSchema.partial();

export const batchSchema = z
  .object({
    rooms: z
      .array(z.string({ error: 'room ids are strings' }).max(200), { error: 'rooms is required (an array of room ids)' })
      .min(1, 'rooms needs at least one room id')
      .max(MAX_BATCH_ROOMS, `rooms holds at most ${MAX_BATCH_ROOMS} room ids`)
      .refine((ids) => new Set(ids).size === ids.length, 'rooms has a room id twice'),
    cmd: cmdSchema,
    timeoutMs: timeoutSchema,
    wait: waitSchema,
  })
  .meta({ id: 'BatchRequest' });
export const waitQuerySchema = z.object({ wait: waitSchema });

const limit = (max: number, fallback: number) =>
  z.coerce
    .number({ error: `an integer from 1 to ${max}` })
    .int(`an integer from 1 to ${max}`)
    .min(1, `an integer from 1 to ${max}`)
    .max(max, `an integer from 1 to ${max}`)
    .default(fallback);
export const roomListQuerySchema = z.object({ limit: limit(MAX_ROOM_LIST_LIMIT, DEFAULT_ROOM_LIST_LIMIT) });
export const commandListQuerySchema = z.object({
  limit: limit(MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT),
  room: z.string().max(200).optional().describe("Only this room's commands."),
});
/** Reading one command: wait for it to finish, at most `waitMs`. */
export const commandReadQuerySchema = z.object({
  wait: flag.default(false).describe('Wait up to 60 s for it to finish.'),
  waitMs: z.coerce
    .number({ error: `an integer from ${MIN_API_WAIT_MS} to ${API_WAIT_MS}` })
    .int()
    .min(MIN_API_WAIT_MS)
    .max(API_WAIT_MS)
    .optional()
    .describe('With wait=true: wait at most this long instead of 60 s (a client following many commands keeps its connections turning over).'),
  room: z.string().max(200).optional().describe('If given, a command of another room is 404.'),
});
/** GET /api: one command (?commandId=), else the list. */
export const seedReadQuerySchema = commandReadQuerySchema.extend(commandListQuerySchema.shape).extend({ commandId: z.string().optional() });
export const idempotencyHeadersSchema = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(MAX_IDEMPOTENCY_KEY_CHARS)
    .optional()
    .describe('Makes retries safe: a second POST with the same key (in the same room) returns the first command instead of running it again (409 if the text differs); replays carry `Idempotent-Replayed: true`.'),
});
export const roomIdParam = z.string().regex(ROOM_ID_RE).meta({ id: 'RoomId' });
export const commandIdParam = z.uuid();

// ---- answers ----
const commandBase = {
  success: z.literal(true).describe('The request succeeded (not: the command did).'),
  commandId: z.uuid(),
  id: z.uuid().describe('Same as commandId.'),
  room: z.string(),
  cmd: z.string(),
  state: z.enum(COMMAND_STATES).describe('queued → running → done | failed | timeout | cancelled | interrupted.'),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
};
export const finishedCommandSchema = z
  .object({
    ...commandBase,
    status: z.enum(['completed', 'error']).describe("completed = exit code 0; error = anything else (the seed's meaning)."),
    exitCode: z.number().int().nullable(),
    output: z.string().optional().describe(`Terminal text between the typed line and the next prompt, LF line ends, at most ${MAX_COMMAND_OUTPUT_BYTES} bytes; left out in lists.`),
    truncated: z.boolean(),
    error: z.string().nullable().describe('Why it did not succeed, in words.'),
  })
  .meta({ id: 'FinishedCommand' });
export const pendingCommandSchema = z
  .object({ ...commandBase, status: z.enum(['pending', 'running']), message: z.string() })
  .meta({ id: 'PendingCommand' });
export const commandSchema = z.union([finishedCommandSchema, pendingCommandSchema]);
export const commandListSchema = z.object({ success: z.literal(true), commands: z.array(commandSchema).describe('Newest first, without their output.') });
export const apiRoomSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: z.iso.datetime(),
    hostConnected: z.boolean().describe("A host runs the room's VM now; without one, commands wait (the server may start its headless host)."),
  })
  .meta({ id: 'Room' });
const batchErrorSchema = z.object({ room: z.string(), success: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) });
export const batchResultSchema = z.object({ success: z.literal(true), results: z.array(z.union([finishedCommandSchema, pendingCommandSchema, batchErrorSchema])).describe('In the order of `rooms`.') });
