import { describe, expect, it } from 'vitest';
import { ApiError, colorFor, explain, relativeTime, safeNext } from './accountsApi';

describe('safeNext', () => {
  it('keeps paths on this site and refuses everything else', () => {
    expect(safeNext('/r/abc?x=1')).toBe('/r/abc?x=1');
    expect(safeNext('//evil.example/x')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext('https://evil.example')).toBe('/');
    expect(safeNext('javascript:alert(1)')).toBe('/');
    expect(safeNext(undefined, '/home')).toBe('/home');
  });
});

describe('explain', () => {
  it('words the codes a person can act on, and passes the server message otherwise', () => {
    expect(explain(new ApiError(400, 'PASSWORD_TOO_SHORT', 'x'))).toMatch(/at least 10 characters/);
    expect(explain(new ApiError(410, 'INVITE_REVOKED', 'x'))).toMatch(/revoked/);
    expect(explain(new ApiError(400, 'BAD_MESSAGE', 'name is empty'))).toBe('name is empty');
    expect(explain(new TypeError('fetch failed'))).toMatch(/Cannot reach the server/);
  });
});

describe('relativeTime and colorFor', () => {
  it('says when, both ways', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(relativeTime('2026-01-01T03:00:00Z', now)).toBe('in 3 h');
    expect(relativeTime('2025-12-29T00:00:00Z', now)).toBe('3 days ago');
    expect(relativeTime(null, now)).toBe('never');
  });
  it('gives a member the same colour every time', () => {
    expect(colorFor('u:abc')).toBe(colorFor('u:abc'));
    expect(colorFor('u:abc')).toMatch(/^#[0-9a-f]{6}$/);
  });
});
