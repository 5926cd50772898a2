import type { z } from 'zod';

/** How a route is called with credentials, as the OpenAPI document names it. */
export type RouteAuth = 'none' | 'apiKey' | 'session';

/**
 * What the OpenAPI document (server/http/openapi.ts) says about one route. The schemas are the
 * ones the handler validates with, so the document cannot drift from what the route accepts.
 */
export interface RouteDoc {
  summary: string;
  tag: string;
  auth: RouteAuth;
  /** Query parameters, as one object schema (each key a parameter). */
  query?: z.ZodObject;
  /** The JSON request body. */
  body?: z.ZodType;
  /** Success responses by status; a schema documents the JSON body. */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** Named errors this route answers with, besides 400/401/403/404 where they apply. */
  errors?: number[];
}
