import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, MAX_PASSWORD_CHARS, needsRehash, passwordProblem, verifyPassword, type ScryptParams } from './password';

/** Cheap parameters so the suite stays fast; one test below uses the real ones. */
const FAST: ScryptParams = { ln: 10, r: 8, p: 1 };

describe('hashPassword / verifyPassword', () => {
  it('round-trips with the default parameters and records them in the string', async () => {
    const h = await hashPassword('correct horse battery', DEFAULT_SCRYPT_PARAMS);
    expect(h).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h)).toBe(false);
    expect(needsRehash(h)).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashPassword('same-password-1', FAST), hashPassword('same-password-1', FAST)]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same-password-1', a)).toBe(true);
    expect(await verifyPassword('same-password-1', b)).toBe(true);
  });

  it('old parameters still verify and ask for a re-hash', async () => {
    const h = await hashPassword('upgrade-me-please', FAST);
    expect(await verifyPassword('upgrade-me-please', h)).toBe(true);
    expect(needsRehash(h)).toBe(true);
    expect(needsRehash(h, FAST)).toBe(false);
  });

  it('matches composed and decomposed forms of the same password (NFKC)', async () => {
    const h = await hashPassword('caf\u00e9-au-lait-9', FAST);
    expect(await verifyPassword('cafe\u0301-au-lait-9', h)).toBe(true);
  });

  it('refuses junk input and tampered or malformed hashes without throwing', async () => {
    const h = await hashPassword('a-fine-password-1', FAST);
    for (const pw of [undefined, null, 42, {}, '', 'x'.repeat(MAX_PASSWORD_CHARS * 4 + 1)]) expect(await verifyPassword(pw, h)).toBe(false);
    const [, , params, salt, hash] = h.split('$');
    const flipped = hash.slice(0, -2) + (hash.at(-2) === 'A' ? 'B' : 'A') + hash.at(-1);
    for (const bad of [
      '',
      'plaintext',
      `$scrypt$${params}$${salt}$${flipped}`,
      `$scrypt$${params}$${salt}`,
      `$bcrypt$${params}$${salt}$${hash}`,
      // A tampered cost must not make us allocate gigabytes or hang.
      `$scrypt$ln=40,r=8,p=1$${salt}$${hash}`,
      `$scrypt$ln=15,r=999,p=1$${salt}$${hash}`,
      `$scrypt$ln=0,r=8,p=1$${salt}$${hash}`,
    ])
      expect(await verifyPassword('a-fine-password-1', bad)).toBe(false);
    expect(needsRehash('garbage')).toBe(true);
  });
});

describe('passwordProblem', () => {
  it.each([
    ['', 'PASSWORD_TOO_SHORT'],
    ['Short1!', 'PASSWORD_TOO_SHORT'],
    ['x'.repeat(MAX_PASSWORD_CHARS + 1), 'PASSWORD_TOO_LONG'],
    ['Ab1!'.repeat(1_000_000), 'PASSWORD_TOO_LONG'],
    ['abcdefghij', 'PASSWORD_TOO_SIMPLE'], // one kind, short
    ['1234567890', 'PASSWORD_TOO_SIMPLE'],
    ['aaaaaaaaaaaaaaaaaaaa', 'PASSWORD_TOO_SIMPLE'], // long but one character
    ['abab1abab1abab1', 'PASSWORD_TOO_SIMPLE'], // two kinds but 3 distinct characters
    ['Password123', 'PASSWORD_TOO_SIMPLE'], // well known
  ] as const)('%j → %s', (pw, problem) => {
    expect(passwordProblem(pw)).toBe(problem);
  });

  it.each(['tr0ub4dor&3x', 'Correct-Horse', 'correcthorsebatterystaple', 'zürich-2031-ü', 'x'.repeat(190) + 'Ab1!defghi'])('accepts %j', (pw) => {
    expect(passwordProblem(pw)).toBeNull();
  });

  it('counts characters, not UTF-16 units: ten emoji are ten characters', () => {
    expect(passwordProblem('😀😁😂🤣😃😄😅😆😉😊')).toBe('PASSWORD_TOO_SIMPLE'); // one kind (other), short
    expect(passwordProblem('😀😁😂🤣😃a')).toBe('PASSWORD_TOO_SHORT');
    expect(passwordProblem('😀'.repeat(MAX_PASSWORD_CHARS))).toBe('PASSWORD_TOO_SIMPLE'); // 400 units, 200 characters: not too long
  });
});
