import { describe, expect, it } from 'vitest';
import { Router, pathSegments, type Route } from './router';

const h = () => {};
const route = (method: Route['method'], path: string): Route => ({ method, path, handler: h });

describe('Router', () => {
  const a = route('GET', '/api/commands/:id');
  const b = route('POST', '/api/commands/batch');
  const c = route('GET', '/vm/*');
  const d = route('GET', '/vm/manifest.json');
  const r = new Router([a, b, c, d]);

  it('the most specific pattern answers, whatever the order', () => {
    expect(r.match('GET', pathSegments('/vm/manifest.json'))).toMatchObject({ route: d });
    expect(r.match('GET', pathSegments('/vm/x/y'))).toMatchObject({ route: c, params: { rest: 'x/y' } });
    expect(r.match('GET', pathSegments('/api/commands/abc/'))).toMatchObject({ route: a, params: { id: 'abc' } });
    expect(r.match('HEAD', pathSegments('/api/commands/abc'))).toMatchObject({ route: a });
  });

  it('a path of another method is a 405 with Allow, not a less specific route', () => {
    expect(r.match('GET', pathSegments('/api/commands/batch'))).toEqual({ allow: ['POST'] });
    expect(r.match('DELETE', pathSegments('/api/commands/x'))).toEqual({ allow: ['GET'] });
    expect(r.match('GET', pathSegments('/api/commands'))).toBeNull();
  });

  it('decodes params; a malformed escape is a BAD_MESSAGE', () => {
    expect(r.match('GET', pathSegments('/api/commands/a%20b'))).toMatchObject({ params: { id: 'a b' } });
    expect(() => pathSegments('/api/commands/%ff')).toThrow(expect.objectContaining({ code: 'BAD_MESSAGE' }));
  });

  it('refuses two routes for one method and pattern', () => {
    expect(() => new Router([route('GET', '/a/:x'), route('GET', '/a/:y')])).toThrow(/two routes/);
  });
});
