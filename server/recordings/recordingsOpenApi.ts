import { z } from 'zod';
import { MAX_IMPORT_CAST_BYTES } from './asciicast';
import { eventsQuerySchema, searchQuerySchema, seekQuerySchema } from './recordingRoutes';

/** Query parameters generated from the routes' own zod schemas (one source for validation and docs). */
function queryParams(schema: z.ZodObject) {
  const js = z.toJSONSchema(schema, { io: 'input' }) as { properties: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties).map(([name, s]) => ({ name, in: 'query', required: js.required?.includes(name) ?? false, schema: s }));
}

const ROOM = { $ref: '#/components/parameters/RoomIdPath' };
const TAB = { name: 'tab', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }, description: 'The terminal (`main` is the first).' };
const ERRORS = { '401': { $ref: '#/components/responses/Error' }, '403': { $ref: '#/components/responses/Error' }, '404': { $ref: '#/components/responses/Error' } };
const EVENT = {
  type: 'array',
  prefixItems: [{ type: 'number', description: 'seconds on the recording’s timeline' }, { enum: ['o', 'i', 'r', 'm'] }, { type: 'string' }],
  description: 'An asciicast v2 event: output, input (only where the room records typing), resize ("COLSxROWS"), marker.',
};
const KEYFRAME = {
  type: ['object', 'null'],
  properties: { t: { type: 'number' }, seq: { type: 'integer' }, cols: { type: 'integer' }, rows: { type: 'integer' }, data: { type: 'string', description: 'The serialized screen: write it into an empty terminal.' } },
};
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const AUTH_NOTE = 'Session cookie (members with at least viewer rights); anyone with the link for open rooms.';

/** The recordings API, added to the OpenAPI document at /api/openapi.json. */
export const recordingPaths = {
  '/api/rooms/{roomId}/recordings': {
    get: {
      summary: 'The room’s recorded terminals',
      description: AUTH_NOTE,
      operationId: 'listRecordings',
      security: [{ session: [] }],
      parameters: [ROOM],
      responses: { '200': json({ type: 'object', properties: { room: { type: 'object' }, terminals: { type: 'array', items: { type: 'object' } } } }, 'Terminals with title, duration, size.'), ...ERRORS },
    },
  },
  '/api/rooms/{roomId}/recordings/{tab}/seek': {
    get: {
      summary: 'The screen at a time: the keyframe at or before it and the events from it up to the time',
      description: `${AUTH_NOTE} A bounded read whatever the recording's length; continue playback from \`next\` with /events.`,
      operationId: 'seekRecording',
      security: [{ session: [] }],
      parameters: [ROOM, TAB, ...queryParams(seekQuerySchema)],
      responses: {
        '200': json({ type: 'object', properties: { t: { type: 'number' }, keyframe: KEYFRAME, events: { type: 'array', items: EVENT }, next: { type: ['string', 'null'] }, startT: { type: 'number' }, endT: { type: 'number' } } }, 'Keyframe and events.'),
        '400': { $ref: '#/components/responses/Error' },
        ...ERRORS,
      },
    },
  },
  '/api/rooms/{roomId}/recordings/{tab}/events': {
    get: {
      summary: 'Events from a cursor (playback)',
      description: AUTH_NOTE,
      operationId: 'recordingEvents',
      security: [{ session: [] }],
      parameters: [ROOM, TAB, ...queryParams(eventsQuerySchema)],
      responses: { '200': json({ type: 'object', properties: { events: { type: 'array', items: EVENT }, next: { type: ['string', 'null'], description: 'null at the end' } } }, 'A page of events.'), '400': { $ref: '#/components/responses/Error' }, ...ERRORS },
    },
  },
  '/api/rooms/{roomId}/recordings/{tab}/marks': {
    get: {
      summary: 'Command blocks (from the shell’s prompt marks), joins and leaves',
      description: AUTH_NOTE,
      operationId: 'recordingMarks',
      security: [{ session: [] }],
      parameters: [ROOM, TAB],
      responses: { '200': json({ type: 'object', properties: { marks: { type: 'array', items: { type: 'object', properties: { t: { type: 'number' }, kind: { enum: ['command', 'join', 'leave'] }, label: { type: 'string' }, exitCode: { type: ['integer', 'null'] } } } } } }, 'Markers in order.'), ...ERRORS },
    },
  },
  '/api/rooms/{roomId}/recordings/{tab}/search': {
    get: {
      summary: 'Times where the output contains a text (within one output frame)',
      description: AUTH_NOTE,
      operationId: 'searchRecording',
      security: [{ session: [] }],
      parameters: [ROOM, TAB, ...queryParams(searchQuerySchema)],
      responses: { '200': json({ type: 'object', properties: { q: { type: 'string' }, results: { type: 'array', items: { type: 'object', properties: { t: { type: 'number' }, text: { type: 'string' } } } } } }, 'Matches.'), '400': { $ref: '#/components/responses/Error' }, ...ERRORS },
    },
  },
  '/api/rooms/{roomId}/recordings/{tab}/export.cast': {
    get: {
      summary: 'The terminal’s recording as an asciicast v2 file (asciinema play, asciinema-player)',
      description: AUTH_NOTE,
      operationId: 'exportRecording',
      security: [{ session: [] }],
      parameters: [ROOM, TAB],
      responses: { '200': { description: 'asciicast v2', content: { 'application/x-asciicast': { schema: { type: 'string' } } } }, ...ERRORS },
    },
  },
  '/api/recordings/import': {
    post: {
      summary: 'Import a .cast as a read-only replay room',
      description: `The body is the file (asciicast v2, at most ${MAX_IMPORT_CAST_BYTES / 2 ** 20} MiB) with content-type application/x-asciicast. Signed in: a members-only room you own; signed out: an open room. Anything that is not a whole, valid asciicast v2 file is refused (BAD_RECORDING, TOO_LARGE) and nothing is stored.`,
      operationId: 'importRecording',
      security: [{ session: [] }, {}],
      requestBody: { required: true, content: { 'application/x-asciicast': { schema: { type: 'string' } } } },
      responses: {
        '201': json({ type: 'object', properties: { room: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } }, url: { type: 'string' } } }, 'The replay room.'),
        '400': { $ref: '#/components/responses/Error' },
        '413': { $ref: '#/components/responses/Error' },
        '415': { $ref: '#/components/responses/Error' },
      },
    },
  },
} as const;
