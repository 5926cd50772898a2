import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './errors';
import type { RouteDoc } from './routeDoc';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The pattern's `:name` segments (and `*` as `rest`), %-decoded. */
  params: Record<string, string>;
}

/** Answers one request, or throws (HttpError for a named status; anything else is a logged 500). */
export type RouteHandler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  method: Method;
  /** `/api/rooms/:id/members/:memberId`; a final `*` matches the rest of the path (as `params.rest`). */
  path: string;
  handler: RouteHandler;
  /** What the OpenAPI document says about it (server/http/openapi.ts); every JSON route has one. */
  doc?: RouteDoc;
  /** Why a route is not in the OpenAPI document (VM files, an HTML form); a route has this or a doc. */
  undocumented?: string;
}

type Segment = { kind: 'static'; text: string } | { kind: 'param'; name: string } | { kind: 'rest' };

interface Compiled {
  route: Route;
  segments: Segment[];
  /** Static beats `:param` beats `*`, segment by segment: the most specific pattern answers, whatever the table's order. */
  rank: number[];
}

export type Match = { route: Route; params: Record<string, string> } | { allow: Method[] } | null;

/**
 * The request path as %-decoded segments, without a trailing slash. A malformed escape (`%ff`,
 * `%zz`) is a 400 here, before any handler or Next sees it.
 */
export function pathSegments(pathname: string): string[] {
  const raw = pathname.replace(/\/+$/, '').split('/').slice(1);
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    throw new HttpError('BAD_MESSAGE', 'the path has a malformed %-escape');
  }
}

/** One explicit table: method + pattern → handler. Two routes for the same method and pattern are a startup error. */
export class Router {
  private compiled: Compiled[] = [];

  constructor(readonly routes: readonly Route[]) {
    const seen = new Set<string>();
    for (const route of routes) {
      const segments = route.path
        .split('/')
        .slice(1)
        .map((s): Segment => (s === '*' ? { kind: 'rest' } : s.startsWith(':') ? { kind: 'param', name: s.slice(1) } : { kind: 'static', text: s }));
      const key = `${route.method} ${segments.map((s) => (s.kind === 'static' ? s.text : s.kind === 'param' ? ':' : '*')).join('/')}`;
      if (seen.has(key)) throw new Error(`two routes for ${route.method} ${route.path}`);
      seen.add(key);
      this.compiled.push({ route, segments, rank: segments.map((s) => (s.kind === 'static' ? 2 : s.kind === 'param' ? 1 : 0)) });
    }
  }

  /**
   * The route for `method` and the decoded `segments`. The most specific pattern that matches the
   * path names the resource (`/api/commands/batch`, not `/api/commands/:id`); when it has no route
   * for this method the answer is `{allow}` (a 405), not a less specific route's.
   */
  match(method: string, segments: string[]): Match {
    const want = method === 'HEAD' ? 'GET' : method;
    let best: { rank: number[]; hits: { c: Compiled; params: Record<string, string> }[] } | null = null;
    for (const c of this.compiled) {
      const params = matchSegments(c.segments, segments);
      if (!params) continue;
      const cmp = best ? compareRank(c.rank, best.rank) : 1;
      if (cmp > 0) best = { rank: c.rank, hits: [{ c, params }] };
      else if (cmp === 0) best!.hits.push({ c, params });
    }
    if (!best) return null;
    const hit = best.hits.find((h) => h.c.route.method === want);
    return hit ? { route: hit.c.route, params: hit.params } : { allow: best.hits.map((h) => h.c.route.method) };
  }
}

function matchSegments(pattern: Segment[], segments: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.kind === 'rest') {
      if (i >= segments.length) return null;
      params.rest = segments.slice(i).join('/');
      return params;
    }
    if (i >= segments.length) return null;
    if (p.kind === 'static' ? p.text !== segments[i] : segments[i] === '') return null;
    if (p.kind === 'param') params[p.name] = segments[i];
  }
  return pattern.length === segments.length ? params : null;
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
