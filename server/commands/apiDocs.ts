import { z } from 'zod';
import type { RouteDoc } from '../http/routeDoc';
import { MAX_QUEUED_PER_ROOM } from './CommandQueue';
import { MAX_BATCH_ROOMS } from './apiCaps';
import {
  apiRoomSchema,
  batchResultSchema,
  batchSchema,
  commandIdParam,
  commandListQuerySchema,
  commandListSchema,
  commandReadQuerySchema,
  createQuerySchema,
  createSchema,
  finishedCommandSchema,
  idempotencyHeadersSchema,
  pendingCommandSchema,
  roomIdParam,
  roomListQuerySchema,
  seedReadQuerySchema,
  waitQuerySchema,
} from './apiSchemas';

/** The OpenAPI entries of the command API's routes (server/http/routes.ts puts each beside its route). */
const base = { tag: 'commands', auth: 'apiKey' } as const;
const finished = { description: 'The command finished.', schema: finishedCommandSchema };
const pending = { description: 'Not finished yet: poll GET /api/commands/{id}.', schema: pendingCommandSchema };
/** What reading one command answers. */
const readOne = { 200: finished, 202: pending };
const roomParams = { id: roomIdParam };

export const apiDocs = {
  run: {
    ...base,
    summary: 'Queue a command and wait for its result',
    description:
      'Runs a shell command in a room’s shared terminal (typed visibly into the host’s VM), one at a time per room, in order; compatible with the WebVM seed. ' +
      'Waits up to 60 s for the command to finish (200), else answers 202 with the id to poll; `?wait=false` answers at once. The command may come in the ' +
      'JSON body or the query string; body fields win. Commands wait while the room has no host; they survive a restart (a running one becomes `interrupted`, never run twice). ' +
      `A room holds at most ${MAX_QUEUED_PER_ROOM} queued commands (then 429).`,
    operationId: 'runCommand',
    query: createQuerySchema,
    headers: idempotencyHeadersSchema,
    body: createSchema.optional(),
    responses: readOne,
    errors: [404, 409, 429, 503],
  },
  read: {
    ...base,
    summary: 'One command (?commandId=) or the most recent commands',
    operationId: 'getOrListCommands',
    query: seedReadQuerySchema,
    responses: {
      200: { description: 'With commandId: the command (as POST). Without: recent commands, newest first, without their output.', schema: z.union([finishedCommandSchema, commandListSchema]) },
      202: pending,
    },
    errors: [404, 503],
  },
  batch: {
    ...base,
    summary: 'Run one command in many rooms (a class)',
    description:
      `Queues the command in every listed room (1 to ${MAX_BATCH_ROOMS}, each once), then waits up to 60 s for all of them (\`?wait=false\` answers at once). ` +
      'A room that cannot take the command gets an error item and the others run regardless. 200 when every item is finished or an error, 202 while any is ' +
      'still queued or running. An Idempotency-Key applies per room, so retrying the same batch with the same key returns the same commands.',
    operationId: 'runBatch',
    query: waitQuerySchema,
    headers: idempotencyHeadersSchema,
    body: batchSchema,
    responses: { 200: { description: 'One item per room, in the order asked.', schema: batchResultSchema }, 202: { description: 'Some are still running.', schema: batchResultSchema } },
    errors: [503],
  },
  showCommand: { ...base, summary: 'A command and, once finished, its result', operationId: 'getCommand', params: { id: commandIdParam }, query: commandReadQuerySchema, responses: readOne, errors: [404] },
  cancelCommand: {
    ...base,
    summary: 'Cancel a command',
    description: 'A queued command is cancelled at once; a running one gets Ctrl-C and is `cancelled` when its prompt returns.',
    operationId: 'cancelCommand',
    params: { id: commandIdParam },
    responses: readOne,
    errors: [404, 409],
  },
  cancelCommandPost: { ...base, summary: 'Cancel a command (as DELETE /api/commands/{id})', operationId: 'cancelCommandPost', params: { id: commandIdParam }, responses: readOne, errors: [404, 409] },
  listRooms: {
    ...base,
    summary: 'The rooms, newest first',
    operationId: 'listRooms',
    query: roomListQuerySchema,
    responses: { 200: { description: 'Rooms with whether a host runs their VM now.', schema: z.object({ success: z.literal(true), rooms: z.array(apiRoomSchema) }) } },
    errors: [404, 503],
  },
  showRoom: {
    ...base,
    summary: 'One room',
    operationId: 'getRoom',
    params: roomParams,
    responses: { 200: { description: 'The room.', schema: z.object({ success: z.literal(true), room: apiRoomSchema }) } },
    errors: [400, 404],
  },
  runInRoom: {
    ...base,
    summary: 'Queue a command in this room and wait for its result',
    description: 'As POST /api with the room taken from the path (a `room` in the body must match it).',
    operationId: 'runRoomCommand',
    params: roomParams,
    query: waitQuerySchema,
    headers: idempotencyHeadersSchema,
    body: createSchema,
    responses: readOne,
    errors: [403, 404, 409, 429, 503],
  },
  listRoomCommands: {
    ...base,
    summary: 'This room’s recent commands, newest first, without their output',
    operationId: 'listRoomCommands',
    params: roomParams,
    query: commandListQuerySchema.omit({ room: true }),
    responses: { 200: { description: 'Recent commands.', schema: commandListSchema } },
    errors: [404],
  },
  showRoomCommand: {
    ...base,
    summary: 'A command of this room and, once finished, its result',
    operationId: 'getRoomCommand',
    params: { ...roomParams, commandId: commandIdParam },
    query: commandReadQuerySchema.omit({ room: true }),
    responses: readOne,
    errors: [404],
  },
  cancelRoomCommand: {
    ...base,
    summary: 'Cancel a command of this room',
    operationId: 'cancelRoomCommand',
    params: { ...roomParams, commandId: commandIdParam },
    responses: readOne,
    errors: [404, 409],
  },
} satisfies Record<string, RouteDoc>;
