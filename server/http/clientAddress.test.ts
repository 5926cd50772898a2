import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddressOf, parseTrustedProxies } from './clientAddress';

const req = (peer: string | undefined, xff?: string | string[]) =>
  ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;

describe('clientAddressOf', () => {
  it('ignores X-Forwarded-For when no proxy is trusted, so a client cannot choose its address', () => {
    const of = clientAddressOf(parseTrustedProxies(''));
    expect(of(req('203.0.113.9', '198.51.100.1'))).toBe('203.0.113.9');
    expect(of(req('::ffff:127.0.0.1', '198.51.100.1'))).toBe('127.0.0.1');
  });

  it('takes the address a trusted proxy saw, not what the client wrote left of it', () => {
    const of = clientAddressOf(parseTrustedProxies('127.0.0.1, ::1'));
    expect(of(req('::ffff:127.0.0.1', '6.6.6.6, 198.51.100.7'))).toBe('198.51.100.7');
    expect(of(req('::1', '2001:db8::5'))).toBe('2001:db8::5');
  });

  it('walks through a chain of trusted proxies and stops at the first untrusted hop', () => {
    const of = clientAddressOf(parseTrustedProxies('10.0.0.0/8'));
    expect(of(req('10.0.0.2', '6.6.6.6, 198.51.100.7, 10.1.2.3'))).toBe('198.51.100.7');
    expect(of(req('10.0.0.2', ['6.6.6.6', '10.9.9.9']))).toBe('6.6.6.6');
  });

  it('does not believe the header from a peer that is not a trusted proxy', () => {
    const of = clientAddressOf(parseTrustedProxies('127.0.0.1'));
    expect(of(req('203.0.113.9', '198.51.100.7'))).toBe('203.0.113.9');
  });

  it('stops at junk and reads ports and brackets some proxies add', () => {
    const of = clientAddressOf(parseTrustedProxies('127.0.0.1'));
    expect(of(req('127.0.0.1', 'not-an-ip'))).toBe('127.0.0.1');
    expect(of(req('127.0.0.1', '198.51.100.7:5123'))).toBe('198.51.100.7');
    expect(of(req('127.0.0.1', '[2001:db8::1]'))).toBe('2001:db8::1');
    expect(of(req('127.0.0.1', ''))).toBe('127.0.0.1');
    expect(of(req(undefined))).toBe('unknown');
  });
});

describe('parseTrustedProxies', () => {
  it('refuses a bad entry instead of trusting nobody (or everybody) by mistake', () => {
    expect(() => parseTrustedProxies('127.0.0.1,nginx')).toThrow();
    expect(() => parseTrustedProxies('10.0.0.0/33')).toThrow();
    expect(parseTrustedProxies(' ')).toEqual([]);
  });
});
