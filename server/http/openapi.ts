import { z } from 'zod';
import { ERROR_CODES } from '../../lib/shared/errors';
import { STATUS_OF } from './errors';
import type { Route } from './router';
import type { RouteAuth, RouteDoc } from './routeDoc';

type Json = Record<string, unknown>;

export interface OpenApiInfo {
  title: string;
  version: string;
  description: string;
}

export const API_INFO: OpenApiInfo = {
  title: 'Tandem API',
  version: '2.0.0',
  description:
    'Everything Tandem answers in JSON: the command API (run shell commands in a room’s shared terminal; WebVM seed dialect at /api), rooms, members, ' +
    'invites, API tokens and accounts, the VMs’ network, recordings. Generated from the zod schemas the routes validate with. Errors are ' +
    '`{"error":{"code","message"}}` with a named code.',
};

const SECURITY: Record<RouteAuth, Json[]> = {
  none: [],
  apiKey: [{ bearer: [] }, { apiKeyQuery: [] }, { apiKeyHeader: [] }],
  session: [{ session: [] }],
};

const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description:
      "The server's API_KEY (every room), or a per-user API token `tdm_…` made at /settings/tokens (the rooms where its user is " +
      'owner or instructor, never open rooms). Other rooms answer 404 to a token, as if they did not exist.',
  },
  apiKeyQuery: { type: 'apiKey', in: 'query', name: 'api_key' },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: 'authjs.session-token',
    description: "A signed-in browser session (`__Secure-authjs.session-token` over HTTPS), or an invited guest's room cookie. Writes need content-type: application/json.",
  },
};

/** The named-error body every error status answers with. */
const errorSchema = z
  .object({ error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }) })
  .meta({ id: 'Error', description: 'A named error: clients switch on `code`, never on the message.' });

/**
 * The OpenAPI 3.1 document of every route in `routes` that has a `doc`, generated from the zod
 * schemas the routes validate with (zod's JSON Schema output is draft 2020-12, OpenAPI 3.1's
 * dialect). Schemas given an id (`.meta({ id })`) become components, referenced where used.
 */
export function openApiDocument(routes: readonly Route[], info: OpenApiInfo): Json {
  const components = new Components();
  const paths: Record<string, Json> = {};
  const errorStatuses = new Set<number>();
  for (const route of routes) {
    if (!route.doc) continue;
    const path = route.path.replace(/:([A-Za-z]\w*)/g, '{$1}');
    const op = operation(route, route.doc, components, errorStatuses);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: op };
  }
  const errorRef = components.schema(errorSchema, 'output');
  const responses: Record<string, Json> = {};
  for (const status of [...errorStatuses].sort()) {
    const codes = ERROR_CODES.filter((c) => (STATUS_OF[c] ?? 500) === status);
    responses[`Error${status}`] = { description: `A named error: ${codes.join(', ')}.`, content: { 'application/json': { schema: errorRef } } };
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    paths,
    components: { securitySchemes: SECURITY_SCHEMES, schemas: components.schemas, responses },
  };
}

function operation(route: Route, doc: RouteDoc, components: Components, errorStatuses: Set<number>): Json {
  const auths: readonly RouteAuth[] = typeof doc.auth === 'string' ? [doc.auth] : doc.auth;
  const parameters: Json[] = [];
  for (const [, name] of route.path.matchAll(/:([A-Za-z]\w*)/g))
    parameters.push({ name, in: 'path', required: true, schema: components.schema(doc.params?.[name] ?? z.string(), 'input') });
  if (doc.query) parameters.push(...components.parameters(doc.query, 'query'));
  if (doc.headers) parameters.push(...components.parameters(doc.headers, 'header'));

  const responses: Record<string, Json> = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    const media = r.media ?? 'application/json';
    responses[status] = { description: r.description, ...(r.schema || !r.media ? { content: { [media]: r.schema ? { schema: components.schema(r.schema, 'output') } : {} } } : { content: { [media]: {} } }) };
  }
  // The errors every route of its kind can answer: bad input, missing credentials, the rate limits.
  const errors = new Set(doc.errors ?? []);
  if (doc.body || doc.query || doc.rawBody) errors.add(400);
  if (doc.body || doc.rawBody) errors.add(413);
  if (auths.some((a) => a !== 'none') && !auths.includes('none')) errors.add(401);
  for (const status of [...errors].sort()) {
    errorStatuses.add(status);
    responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  }

  return {
    tags: [doc.tag],
    summary: doc.summary,
    ...(doc.description && { description: doc.description }),
    operationId: doc.operationId ?? operationIdOf(route),
    security: auths.flatMap((a) => (a === 'none' ? [{}] : SECURITY[a])),
    ...(parameters.length && { parameters }),
    ...(doc.body && {
      requestBody: { required: !doc.body.safeParse(undefined).success, content: { 'application/json': { schema: components.schema(doc.body, 'input') } } },
    }),
    ...(doc.rawBody && { requestBody: { required: true, ...(doc.rawBody.description && { description: doc.rawBody.description }), content: { [doc.rawBody.media]: {} } } }),
    responses,
  };
}

/** `GET /api/rooms/:id/members` → `getApiRoomsIdMembers`. */
function operationIdOf(route: Route): string {
  const words = route.path.split(/[/:.{}-]+/).filter(Boolean);
  return route.method.toLowerCase() + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

/** Converts zod schemas to JSON Schema, hoisting the named ones (`.meta({ id })`) into `components.schemas`. */
class Components {
  readonly schemas: Record<string, Json> = {};

  schema(schema: z.ZodType, io: 'input' | 'output'): Json {
    const js = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
    const defs = (js.$defs ?? {}) as Record<string, Json>;
    delete js.$defs;
    delete js.$schema;
    // A schema documented both as a request (input) and a response (output) may differ (defaults,
    // extra keys): the second shape gets its own name.
    const names = new Map<string, string>();
    const rewrite = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(rewrite);
      if (!node || typeof node !== 'object') return node;
      const out: Json = {};
      for (const [k, v] of Object.entries(node)) {
        out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/') ? `#/components/schemas/${names.get(v.slice(8)) ?? v.slice(8)}` : rewrite(v);
      }
      return out;
    };
    for (const [id, def] of Object.entries(defs)) {
      const same = this.schemas[id] === undefined || JSON.stringify(this.schemas[id]) === JSON.stringify(rewrite(def));
      names.set(id, same ? id : `${id}${io === 'input' ? 'Input' : 'Output'}`);
    }
    for (const [id, def] of Object.entries(defs)) this.schemas[names.get(id)!] = rewrite(def) as Json;
    return rewrite(js) as Json;
  }

  /** Each key of an object schema as one parameter (query string or header). */
  parameters(schema: z.ZodObject, where: 'query' | 'header'): Json[] {
    const js = this.schema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
    return Object.entries(js.properties ?? {}).map(([name, s]) => {
      const { description, ...rest } = s as Json & { description?: string };
      return { name, in: where, required: js.required?.includes(name) ?? false, ...(description && { description }), schema: rest };
    });
  }
}
