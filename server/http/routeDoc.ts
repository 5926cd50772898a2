import type { z } from 'zod';

/**
 * How a route is called with credentials, as the OpenAPI document names it: `apiKey` (the server's
 * API_KEY or a per-user token, as bearer, `?api_key=` or `x-api-key`), `session` (the browser's
 * sign-in cookie, or an invited guest's room cookie), `none` (anyone; the route checks what it needs).
 */
export type RouteAuth = 'none' | 'apiKey' | 'session';

/** Groups of operations in the document. */
export type RouteTag = 'commands' | 'rooms' | 'members' | 'invites' | 'tokens' | 'accounts' | 'network' | 'recordings' | 'room state' | 'site';

/** A response: a description and, for JSON, the schema of the body (the one the code builds it by, where there is one). */
export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  /** Another media type than JSON (e.g. `application/dns-message`); `schema` then describes it if given. */
  media?: string;
}

/**
 * What the OpenAPI document (server/http/openapi.ts) says about one route. The schemas are the
 * ones the handler validates with, so the document cannot drift from what the route accepts.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  tag: RouteTag;
  /** Any one of these lets a caller in. */
  auth: RouteAuth | readonly RouteAuth[];
  /** A stable name for client generators; derived from method and path when absent. */
  operationId?: string;
  /** Path parameters (`:id` → `id`) by name; a plain string when absent. */
  params?: Record<string, z.ZodType>;
  /** Query parameters, as one object schema (each key a parameter). */
  query?: z.ZodObject;
  /** Request headers, as one object schema (each key a header). */
  headers?: z.ZodObject;
  /** The JSON request body. */
  body?: z.ZodType;
  /** A request body in another media type than JSON. */
  rawBody?: { media: string; description?: string };
  /** Success responses by status. */
  responses: Record<number, ResponseDoc>;
  /** Error statuses this route answers with (each an `{"error":{code,message}}`), besides 401 (auth), 400 (a body or query) and 429 added for it. */
  errors?: number[];
}
