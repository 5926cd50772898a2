import { describe, expect, it } from 'vitest';
import { signHostToken, verifyHostToken } from './hostToken';

const secret = 'a-test-secret-of-some-length';

describe('host tokens', () => {
  it('verifies for its room only, until expiry', () => {
    const t = signHostToken(secret, 'room-a', 1000, 500);
    expect(verifyHostToken(secret, t, 'room-a', 1200)).toBe(true);
    expect(verifyHostToken(secret, t, 'room-b', 1200)).toBe(false);
    expect(verifyHostToken(secret, t, 'room-a', 1600)).toBe(false);
  });

  it('refuses forged, wrong-secret and junk tokens', () => {
    const t = signHostToken(secret, 'room-a');
    const [r, exp, sig] = t.split('.');
    expect(verifyHostToken(secret, `${r}.${Number(exp) + 1}.${sig}`, 'room-a')).toBe(false);
    expect(verifyHostToken('another-secret-entirely', t, 'room-a')).toBe(false);
    for (const junk of [undefined, 42, '', 'a.b', 'x'.repeat(1000), `${r}.${exp}.`]) expect(verifyHostToken(secret, junk, 'room-a')).toBe(false);
  });
});
