import { z } from 'zod';
import type { RouteDoc } from '../http/routeDoc';
import { ROOM_STATE_DOCS } from './roomStateRoutes';

const err = { $ref: '#/components/responses/Error' };
const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } });

/** One operation from its RouteDoc (the same docs the route table carries). */
function operation(id: string, d: RouteDoc) {
  return {
    summary: d.summary,
    operationId: id,
    tags: [d.tag],
    security: [{ session: [] }, { hostKey: [] }],
    ...(d.body ? { requestBody: { required: true, content: json(d.body) } } : {}),
    responses: {
      ...Object.fromEntries(Object.entries(d.responses).map(([status, r]) => [status, { description: r.description, ...(r.schema ? { content: json(r.schema) } : {}) }])),
      ...Object.fromEntries([400, 403, 404, ...(d.errors ?? [])].map((s) => [String(s), err])),
    },
  };
}

/** The room-state routes in the OpenAPI document at /api/openapi.json, made from their RouteDocs. */
export const roomStateOpenApiPaths = {
  '/api/rooms/{roomId}/state': {
    parameters: [{ $ref: '#/components/parameters/RoomIdPath' }],
    get: operation('getRoomState', ROOM_STATE_DOCS.latest),
    put: operation('commitRoomState', ROOM_STATE_DOCS.commit),
  },
  '/api/rooms/{roomId}/state/missing': { parameters: [{ $ref: '#/components/parameters/RoomIdPath' }], post: operation('roomStateMissing', ROOM_STATE_DOCS.missing) },
  '/api/rooms/{roomId}/state/chunks': {
    parameters: [{ $ref: '#/components/parameters/RoomIdPath' }],
    post: { ...operation('roomStateChunks', ROOM_STATE_DOCS.chunks), requestBody: { required: true, content: { 'application/octet-stream': {} } } },
  },
  '/api/rooms/{roomId}/state/read': { parameters: [{ $ref: '#/components/parameters/RoomIdPath' }], post: operation('roomStateRead', ROOM_STATE_DOCS.read) },
};
