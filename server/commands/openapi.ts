import { ERROR_CODES } from '../../lib/shared/errors';
import { COMMAND_STATES } from '../../drizzle/schema';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  MAX_CMD_BYTES,
  MAX_COMMAND_OUTPUT_BYTES,
  MAX_COMMAND_TIMEOUT_MS,
  MAX_QUEUED_PER_ROOM,
  MIN_COMMAND_TIMEOUT_MS,
} from './CommandQueue';
import { recordingPaths } from '../recordings/recordingsOpenApi';
import { netOpenApiPaths } from '../net/openapi';
import { roomStateOpenApiPaths } from '../roomstate/openapi';
import { API_WAIT_MS, DEFAULT_ROOM_LIST_LIMIT, MAX_BATCH_ROOMS, MAX_ROOM_LIST_LIMIT, MIN_API_WAIT_MS } from './apiCaps';

/** The long-poll parameters of every operation that reads one command. */
const WAIT_PARAMS = [
  { name: 'wait', in: 'query', schema: { type: 'string', enum: ['true', 'false'], default: 'false' }, description: 'Wait up to 60 s for it to finish.' },
  { $ref: '#/components/parameters/WaitMs' },
];
/** What reading (or cancelling) one command answers. */
const COMMAND_RESPONSES = {
  '200': { $ref: '#/components/responses/Finished' },
  '202': { $ref: '#/components/responses/Pending' },
  '401': { $ref: '#/components/responses/Error' },
  '404': { $ref: '#/components/responses/Error' },
};

/** Hand-written OpenAPI 3.1 description of the command API, served at GET /api/openapi.json. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Tandem command API',
    version: '1.0.0',
    description:
      'Runs shell commands in a room\'s shared terminal (typed visibly into the host\'s VM), one at a time per room, in order. ' +
      'Compatible with the WebVM seed dialect at /api. Output is the terminal text between the typed line and the next prompt, ' +
      `CRLF turned into LF, at most ${MAX_COMMAND_OUTPUT_BYTES} bytes (then \`truncated\` is true). ` +
      'Commands wait in the queue while the room has no host or its shell is busy; they survive a server restart, and a command ' +
      'that was running when the server stopped becomes `interrupted` (it is never run twice).',
  },
  servers: [{ url: '/' }],
  security: [{ bearer: [] }, { apiKeyQuery: [] }, { apiKeyHeader: [] }],
  paths: {
    ...recordingPaths,
    '/api': {
      post: {
        summary: 'Queue a command and wait for its result',
        description:
          'Waits up to 60 s for the command to finish (200), else answers 202 with the id to poll. `?wait=false` answers at once. ' +
          'The command may come in the JSON body or as `?cmd=`; body fields win.',
        operationId: 'runCommand',
        parameters: [
          { $ref: '#/components/parameters/IdempotencyKey' },
          { name: 'cmd', in: 'query', schema: { type: 'string' } },
          { name: 'room', in: 'query', schema: { $ref: '#/components/schemas/RoomId' } },
          { name: 'timeoutMs', in: 'query', schema: { $ref: '#/components/schemas/TimeoutMs' } },
          { name: 'wait', in: 'query', schema: { type: 'string', enum: ['true', 'false', '1', '0', 'yes', 'no'], default: 'true' } },
        ],
        requestBody: {
          required: false,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/CommandRequest' } } },
        },
        responses: {
          '200': { $ref: '#/components/responses/Finished' },
          '202': { $ref: '#/components/responses/Pending' },
          '400': { $ref: '#/components/responses/Error' },
          '401': { $ref: '#/components/responses/Error' },
          '404': { $ref: '#/components/responses/Error' },
          '409': { description: 'The Idempotency-Key was used for a different command.', $ref: '#/components/responses/Error' },
          '413': { $ref: '#/components/responses/Error' },
          '429': { description: `The room already has ${MAX_QUEUED_PER_ROOM} commands queued.`, $ref: '#/components/responses/Error' },
          '503': { description: 'API_KEY is not set on the server: the API is off.', $ref: '#/components/responses/Error' },
        },
      },
      get: {
        summary: 'One command (?commandId=) or the most recent commands',
        operationId: 'getOrListCommands',
        parameters: [
          { name: 'commandId', in: 'query', schema: { type: 'string', format: 'uuid' } },
          { name: 'room', in: 'query', schema: { $ref: '#/components/schemas/RoomId' }, description: 'Only this room\'s commands.' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
          { name: 'wait', in: 'query', schema: { type: 'string', enum: ['true', 'false'], default: 'false' }, description: 'With commandId: wait up to 60 s for it to finish.' },
          { $ref: '#/components/parameters/WaitMs' },
        ],
        responses: {
          '200': {
            description: 'With commandId: the finished command (as POST). Without: recent commands, newest first, without their output.',
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { $ref: '#/components/schemas/FinishedCommand' },
                    {
                      type: 'object',
                      required: ['success', 'commands'],
                      properties: {
                        success: { const: true },
                        commands: { type: 'array', items: { anyOf: [{ $ref: '#/components/schemas/FinishedCommand' }, { $ref: '#/components/schemas/PendingCommand' }] } },
                      },
                    },
                  ],
                },
              },
            },
          },
          '202': { $ref: '#/components/responses/Pending' },
          '401': { $ref: '#/components/responses/Error' },
          '404': { $ref: '#/components/responses/Error' },
          '503': { $ref: '#/components/responses/Error' },
        },
      },
    },
    '/api/commands/{id}': {
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
        { name: 'room', in: 'query', schema: { $ref: '#/components/schemas/RoomId' }, description: 'If given, a command of another room is 404.' },
      ],
      get: {
        summary: 'A command and, once finished, its result',
        operationId: 'getCommand',
        parameters: WAIT_PARAMS,
        responses: COMMAND_RESPONSES,
      },
      delete: {
        summary: 'Cancel a command',
        description: 'A queued command is cancelled at once; a running one gets Ctrl-C and is `cancelled` when its prompt returns.',
        operationId: 'cancelCommand',
        responses: { ...COMMAND_RESPONSES, '409': { description: 'The command had already finished otherwise.', $ref: '#/components/responses/Error' } },
      },
    },
    '/api/commands/{id}/cancel': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      post: {
        summary: 'Cancel a command (same as DELETE /api/commands/{id})',
        operationId: 'cancelCommandPost',
        responses: {
          '200': { $ref: '#/components/responses/Finished' },
          '202': { $ref: '#/components/responses/Pending' },
          '404': { $ref: '#/components/responses/Error' },
          '409': { $ref: '#/components/responses/Error' },
        },
      },
    },
    '/api/commands/batch': {
      post: {
        summary: 'Run one command in many rooms (a class)',
        description:
          `Queues the command in every listed room (1 to ${MAX_BATCH_ROOMS}, each once), then waits up to 60 s for all of them (\`?wait=false\` answers at once). ` +
          'Results come in the order of `rooms`. A room that cannot take the command (unknown id, malformed id, full queue, ' +
          'Idempotency-Key conflict) gets an error item and the others run regardless. 200 when every item is finished or an error, ' +
          '202 while any command is still queued or running: follow each with GET /api/rooms/{id}/commands/{cid}?wait=true. ' +
          'An Idempotency-Key applies per room, so retrying the same batch with the same key returns the same commands.',
        operationId: 'runBatch',
        parameters: [
          { $ref: '#/components/parameters/IdempotencyKey' },
          { name: 'wait', in: 'query', schema: { type: 'string', enum: ['true', 'false', '1', '0', 'yes', 'no'], default: 'true' } },
        ],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/BatchRequest' } } } },
        responses: {
          '200': { $ref: '#/components/responses/Batch' },
          '202': { $ref: '#/components/responses/Batch' },
          '400': { description: 'Malformed body: rooms missing, empty, over the limit or repeated; cmd missing; bad timeoutMs.', $ref: '#/components/responses/Error' },
          '401': { $ref: '#/components/responses/Error' },
          '413': { $ref: '#/components/responses/Error' },
          '503': { $ref: '#/components/responses/Error' },
        },
      },
    },
    '/api/rooms': {
      get: {
        summary: 'The rooms, newest first',
        operationId: 'listRooms',
        parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_ROOM_LIST_LIMIT, default: DEFAULT_ROOM_LIST_LIMIT } }],
        responses: {
          '200': {
            description: 'Rooms with whether a host (a browser, or the server\'s headless one) runs their VM now.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['success', 'rooms'],
                  properties: { success: { const: true }, rooms: { type: 'array', items: { $ref: '#/components/schemas/Room' } } },
                },
              },
            },
          },
          '401': { $ref: '#/components/responses/Error' },
          '503': { $ref: '#/components/responses/Error' },
        },
      },
    },
    '/api/rooms/{roomId}': {
      parameters: [{ $ref: '#/components/parameters/RoomIdPath' }],
      get: {
        summary: 'One room',
        operationId: 'getRoom',
        responses: {
          '200': {
            description: 'The room.',
            content: {
              'application/json': {
                schema: { type: 'object', required: ['success', 'room'], properties: { success: { const: true }, room: { $ref: '#/components/schemas/Room' } } },
              },
            },
          },
          '400': { $ref: '#/components/responses/Error' },
          '401': { $ref: '#/components/responses/Error' },
          '404': { $ref: '#/components/responses/Error' },
        },
      },
    },
    '/api/rooms/{roomId}/commands': {
      parameters: [{ $ref: '#/components/parameters/RoomIdPath' }],
      post: {
        summary: 'Queue a command in this room and wait for its result',
        description: 'As POST /api with the room taken from the path (a `room` in the body must match it).',
        operationId: 'runRoomCommand',
        parameters: [
          { $ref: '#/components/parameters/IdempotencyKey' },
          { name: 'wait', in: 'query', schema: { type: 'string', enum: ['true', 'false', '1', '0', 'yes', 'no'], default: 'true' } },
        ],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CommandRequest' } } } },
        responses: {
          '200': { $ref: '#/components/responses/Finished' },
          '202': { $ref: '#/components/responses/Pending' },
          '400': { $ref: '#/components/responses/Error' },
          '401': { $ref: '#/components/responses/Error' },
          '404': { $ref: '#/components/responses/Error' },
          '409': { $ref: '#/components/responses/Error' },
          '413': { $ref: '#/components/responses/Error' },
          '429': { $ref: '#/components/responses/Error' },
          '503': { $ref: '#/components/responses/Error' },
        },
      },
      get: {
        summary: 'This room\'s recent commands, newest first, without their output',
        operationId: 'listRoomCommands',
        parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } }],
        responses: {
          '200': { $ref: '#/components/responses/CommandList' },
          '401': { $ref: '#/components/responses/Error' },
          '404': { $ref: '#/components/responses/Error' },
        },
      },
    },
    '/api/rooms/{roomId}/commands/{id}': {
      parameters: [
        { $ref: '#/components/parameters/RoomIdPath' },
        { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, description: 'A command of another room is 404.' },
      ],
      get: {
        summary: 'A command of this room and, once finished, its result',
        operationId: 'getRoomCommand',
        parameters: WAIT_PARAMS,
        responses: COMMAND_RESPONSES,
      },
      delete: {
        summary: 'Cancel a command of this room',
        operationId: 'cancelRoomCommand',
        responses: { ...COMMAND_RESPONSES, '409': { $ref: '#/components/responses/Error' } },
      },
    },
    ...netOpenApiPaths,
    ...roomStateOpenApiPaths,
    '/api/openapi.json': {
      get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } },
    },
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description:
          "The server's API_KEY (every room), or a per-user API token `tdm_…` made at /settings/tokens (the rooms where its user is " +
          'owner or instructor, never open rooms). Other rooms answer 404 to a token, as if they did not exist.',
      },
      apiKeyQuery: { type: 'apiKey', in: 'query', name: 'api_key' },
      hostKey: { type: 'apiKey', in: 'header', name: 'x-host-key', description: 'The key the relay gives the room’s host page with its seat (room-state uploads).' },
      session: { type: 'apiKey', in: 'cookie', name: 'authjs.session-token', description: 'A signed-in browser session (or an invited guest\'s room cookie): the recordings routes.' },
      apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
    },
    parameters: {
      IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        description:
          'Makes retries safe: a second POST with the same key (in the same room) returns the first command instead of running it again ' +
          '(409 if the command text differs). Replays carry the header `Idempotent-Replayed: true`.',
        schema: { type: 'string', minLength: 1, maxLength: 200 },
      },
      WaitMs: {
        name: 'waitMs',
        in: 'query',
        description: 'With wait=true: wait at most this long instead of 60 s (a client following many commands keeps its connections turning over).',
        schema: { type: 'integer', minimum: MIN_API_WAIT_MS, maximum: API_WAIT_MS },
      },
      RoomIdPath: { name: 'roomId', in: 'path', required: true, schema: { $ref: '#/components/schemas/RoomId' } },
    },
    schemas: {
      RoomId: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$', default: 'default' },
      TimeoutMs: { type: 'integer', minimum: MIN_COMMAND_TIMEOUT_MS, maximum: MAX_COMMAND_TIMEOUT_MS, default: DEFAULT_COMMAND_TIMEOUT_MS },
      CommandRequest: {
        type: 'object',
        required: ['cmd'],
        properties: {
          cmd: { type: 'string', minLength: 1, description: `At most ${MAX_CMD_BYTES} bytes (UTF-8). Several lines are fine.` },
          room: { $ref: '#/components/schemas/RoomId' },
          timeoutMs: {
            $ref: '#/components/schemas/TimeoutMs',
            description: 'Running time allowed; then the command gets Ctrl-C and ends as `timeout`.',
          },
          wait: { type: 'boolean', default: true },
        },
      },
      Room: {
        type: 'object',
        required: ['id', 'name', 'createdAt', 'hostConnected'],
        properties: {
          id: { $ref: '#/components/schemas/RoomId' },
          name: { type: 'string' },
          createdAt: { type: 'string', format: 'date-time' },
          hostConnected: { type: 'boolean', description: 'A host runs the room\'s VM now; without one, commands wait (the server may start its headless host).' },
        },
      },
      BatchRequest: {
        type: 'object',
        required: ['rooms', 'cmd'],
        properties: {
          rooms: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: MAX_BATCH_ROOMS, uniqueItems: true },
          cmd: { type: 'string', minLength: 1, description: `At most ${MAX_CMD_BYTES} bytes (UTF-8).` },
          timeoutMs: { $ref: '#/components/schemas/TimeoutMs' },
          wait: { type: 'boolean', default: true },
        },
      },
      BatchError: {
        type: 'object',
        required: ['room', 'success', 'error'],
        properties: {
          room: { type: 'string' },
          success: { const: false },
          error: { $ref: '#/components/schemas/Error/properties/error' },
        },
      },
      State: {
        type: 'string',
        enum: [...COMMAND_STATES],
        description: 'Our precise state: queued → running → done | failed | timeout | cancelled | interrupted.',
      },
      CommandBase: {
        type: 'object',
        required: ['success', 'commandId', 'id', 'room', 'cmd', 'state', 'status', 'createdAt'],
        properties: {
          success: { const: true, description: 'The request succeeded (not: the command did).' },
          commandId: { type: 'string', format: 'uuid' },
          id: { type: 'string', format: 'uuid', description: 'Same as commandId.' },
          room: { type: 'string' },
          cmd: { type: 'string' },
          state: { $ref: '#/components/schemas/State' },
          createdAt: { type: 'string', format: 'date-time' },
          startedAt: { type: ['string', 'null'], format: 'date-time' },
          finishedAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
      FinishedCommand: {
        allOf: [
          { $ref: '#/components/schemas/CommandBase' },
          {
            type: 'object',
            required: ['status', 'exitCode', 'truncated', 'error'],
            properties: {
              status: { enum: ['completed', 'error'], description: 'completed = exit code 0; error = anything else (the seed\'s meaning).' },
              exitCode: { type: ['integer', 'null'] },
              output: { type: 'string', description: 'Left out in lists.' },
              truncated: { type: 'boolean' },
              error: { type: ['string', 'null'], description: 'Why it did not succeed, in words.' },
            },
          },
        ],
      },
      PendingCommand: {
        allOf: [
          { $ref: '#/components/schemas/CommandBase' },
          {
            type: 'object',
            required: ['status', 'message'],
            properties: { status: { enum: ['pending', 'running'] }, message: { type: 'string' } },
          },
        ],
      },
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: { code: { type: 'string', enum: [...ERROR_CODES] }, message: { type: 'string' } },
          },
        },
      },
    },
    responses: {
      Finished: { description: 'The command finished.', content: { 'application/json': { schema: { $ref: '#/components/schemas/FinishedCommand' } } } },
      Pending: { description: 'Not finished yet: poll GET /api/commands/{id}.', content: { 'application/json': { schema: { $ref: '#/components/schemas/PendingCommand' } } } },
      CommandList: {
        description: 'Recent commands, newest first, without their output.',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['success', 'commands'],
              properties: {
                success: { const: true },
                commands: { type: 'array', items: { anyOf: [{ $ref: '#/components/schemas/FinishedCommand' }, { $ref: '#/components/schemas/PendingCommand' }] } },
              },
            },
          },
        },
      },
      Batch: {
        description: 'One item per room, in the order asked: the command (finished or pending) or why the room did not get it.',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['success', 'results'],
              properties: {
                success: { const: true },
                results: {
                  type: 'array',
                  items: {
                    oneOf: [
                      { $ref: '#/components/schemas/FinishedCommand' },
                      { $ref: '#/components/schemas/PendingCommand' },
                      { $ref: '#/components/schemas/BatchError' },
                    ],
                  },
                },
              },
            },
          },
        },
      },
      Error: { description: 'A named error.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    },
  },
} as const;
