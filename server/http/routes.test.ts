import { describe, expect, it } from 'vitest';
import { routeTable, type RouteHandlers } from './routes';
import { openApiDocument, API_INFO } from './openapi';

/** Handlers are only referenced by the table, never called here: any function stands in. */
const anyHandlers = new Proxy({}, { get: () => new Proxy({}, { get: () => () => {} }) }) as RouteHandlers;
const routes = routeTable(anyHandlers);

describe('the route table and the OpenAPI document', () => {
  it('every route is documented, or says why not; only non-JSON routes are left out', () => {
    const missing = routes.filter((r) => !r.doc === !r.undocumented).map((r) => `${r.method} ${r.path}`);
    expect(missing, 'a route needs a doc (server/http/routes.ts says how) or an `undocumented` reason, not both').toEqual([]);
    const leftOut = routes.filter((r) => r.undocumented).map((r) => r.path);
    for (const path of leftOut) expect(path.startsWith('/api'), `${path} is a JSON API route: document it`).toBe(false);
  });

  it('every documented route is in the document, under its method, with a unique operationId', () => {
    const doc = openApiDocument(routes, API_INFO) as { paths: Record<string, Record<string, { operationId: string }>> };
    const ids: string[] = [];
    for (const r of routes.filter((x) => x.doc)) {
      const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      ids.push(op.operationId);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a route added without a doc fails the check above', () => {
    const extra = [...routes, { method: 'GET' as const, path: '/api/new-thing', handler: () => {} }];
    expect(extra.filter((r) => !r.doc && !r.undocumented).map((r) => r.path)).toEqual(['/api/new-thing']);
  });
});
