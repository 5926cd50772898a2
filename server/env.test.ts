import { describe, expect, it } from 'vitest';
import { bindAddress } from './env';

describe('bindAddress', () => {
  it('binds localhost to loopback only, anything else as written', () => {
    expect(bindAddress('localhost')).toBe('127.0.0.1');
    expect(bindAddress('0.0.0.0')).toBe('0.0.0.0');
    expect(bindAddress('::1')).toBe('::1');
  });
});
