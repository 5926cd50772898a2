import { describe, expect, it } from 'vitest';
import { internalBaseUrl, secureContextArgs } from './internalBase';

describe('internalBaseUrl', () => {
  it('reaches a server bound to every interface on loopback, others where they are bound', () => {
    expect(internalBaseUrl('0.0.0.0', 3000)).toBe('http://127.0.0.1:3000');
    expect(internalBaseUrl('::', 3000)).toBe('http://127.0.0.1:3000');
    expect(internalBaseUrl('localhost', 3000)).toBe('http://localhost:3000');
    expect(internalBaseUrl('192.168.1.5', 80)).toBe('http://192.168.1.5:80');
    expect(internalBaseUrl('fd00::5', 80)).toBe('http://[fd00::5]:80');
  });
});

describe('secureContextArgs', () => {
  it('needs nothing for loopback or https, declares any other origin secure for our own Chromium', () => {
    for (const u of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://127.9.9.9:1', 'http://[::1]:3000', 'https://tandem.example'])
      expect(secureContextArgs(u), u).toEqual([]);
    expect(secureContextArgs('http://192.168.1.5:3000/x')).toEqual(['--unsafely-treat-insecure-origin-as-secure=http://192.168.1.5:3000']);
    expect(secureContextArgs('http://[fd00::5]:80')).toEqual(['--unsafely-treat-insecure-origin-as-secure=http://[fd00::5]']);
  });
});
