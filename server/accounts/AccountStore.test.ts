import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { users } from '../../drizzle/schema';
import { TandemError, type ErrorCode } from '../../lib/shared/errors';
import { AccountStore, MAX_NAME_CHARS, normalizeEmail } from './AccountStore';
import { tempDb } from './tempDb';

const FAST = { ln: 10, r: 8, p: 1 };
const PW = 'a-good-passw0rd';

let t: ReturnType<typeof tempDb>;
let accounts: AccountStore;
beforeEach(() => {
  t = tempDb();
  accounts = new AccountStore(t.db, { scrypt: FAST });
});
afterEach(() => t.close());

async function code(p: Promise<unknown>): Promise<ErrorCode | 'resolved'> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    if (e instanceof TandemError) return e.code;
    throw e;
  }
}

describe('AccountStore.createUser', () => {
  it('creates a user with a lowercased, trimmed email and a trimmed name; never hands out the hash', async () => {
    const u = await accounts.createUser({ email: '  Ada@Example.COM ', name: '  Ada Lovelace ', password: PW });
    expect(u).toEqual({ id: expect.any(String), email: 'ada@example.com', name: 'Ada Lovelace', createdAt: expect.any(Date) });
    expect(Object.keys(u)).not.toContain('passwordHash');
    expect(accounts.getUser(u.id)).toEqual(u);
    expect(accounts.getUserByEmail('ADA@example.com')).toEqual(u);
    const row = t.db.select().from(users).where(eq(users.id, u.id)).get()!;
    expect(row.passwordHash).toMatch(/^\$scrypt\$ln=10,/);
    expect(row.passwordHash).not.toContain(PW);
  });

  it('refuses a duplicate email in any letter case or padding (EMAIL_TAKEN)', async () => {
    await accounts.createUser({ email: 'bob@example.com', name: 'Bob', password: PW });
    for (const email of ['bob@example.com', 'BOB@EXAMPLE.COM', ' Bob@Example.com\t'])
      expect(await code(accounts.createUser({ email, name: 'Mallory', password: 'another-passw0rd' }))).toBe('EMAIL_TAKEN');
    expect(t.db.select().from(users).all()).toHaveLength(1);
  });

  it('two sign-ups racing for one email: exactly one wins', async () => {
    const results = await Promise.allSettled(['race@example.com', 'RACE@example.com', 'Race@Example.com'].map((email) => accounts.createUser({ email, name: 'R', password: PW })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as TandemError).code).toBe('EMAIL_TAKEN');
  });

  it.each([
    ['', 'PASSWORD_TOO_SHORT'],
    ['short', 'PASSWORD_TOO_SHORT'],
    ['x'.repeat(201), 'PASSWORD_TOO_LONG'],
    ['Aa1!'.repeat(5_000_000), 'PASSWORD_TOO_LONG'], // 20 MB: refused before any hashing
    ['aaaaaaaaaaaa', 'PASSWORD_TOO_SIMPLE'],
    ['password123', 'PASSWORD_TOO_SIMPLE'],
    [undefined, 'BAD_MESSAGE'],
    [12345678901, 'BAD_MESSAGE'],
    [{ toString: () => PW }, 'BAD_MESSAGE'],
  ])('refuses password %#: %s', async (password, want) => {
    expect(await code(accounts.createUser({ email: 'p@example.com', name: 'P', password }))).toBe(want);
    expect(accounts.getUserByEmail('p@example.com')).toBeUndefined();
  });

  it.each(['', 'not-an-email', 'a@b', '@example.com', 'a b@example.com', `${'x'.repeat(250)}@example.com`, null, 42, ['a@example.com']])(
    'refuses email %j (BAD_EMAIL)',
    async (email) => {
      expect(await code(accounts.createUser({ email, name: 'E', password: PW }))).toBe('BAD_EMAIL');
    },
  );

  it('refuses empty, over-long, multi-line or non-string names', async () => {
    for (const name of ['', '   ', 'x'.repeat(MAX_NAME_CHARS + 1), 'Eve\nAdmin', 'Eve\u0000', 'Eve\u2028x', 'a\u202e\u0007', null, 7])
      expect(await code(accounts.createUser({ email: 'n@example.com', name, password: PW })), JSON.stringify(name)).toBe('BAD_NAME');
  });

  it('stores markup and unicode in names verbatim (escaping is the renderer’s job)', async () => {
    const names = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "Robert'); DROP TABLE users;--", '&lt;b&gt; &amp;', 'Zoë 🦊 יוסף', '😀'.repeat(MAX_NAME_CHARS)];
    for (const [i, name] of names.entries()) {
      const u = await accounts.createUser({ email: `v${i}@example.com`, name, password: PW });
      expect(u.name).toBe(name);
      expect(accounts.getUser(u.id)!.name).toBe(name);
    }
    expect(t.db.select().from(users).all()).toHaveLength(names.length); // the DROP TABLE did nothing
  });
});

describe('AccountStore.verifyCredentials', () => {
  it('signs in with the right password and any letter case of the email', async () => {
    const u = await accounts.createUser({ email: 'cy@example.com', name: 'Cy', password: PW });
    expect(await accounts.verifyCredentials('cy@example.com', PW)).toEqual(u);
    expect(await accounts.verifyCredentials(' CY@Example.com ', PW)).toEqual(u);
  });

  it('refuses wrong passwords, unknown emails and junk, all alike (null)', async () => {
    await accounts.createUser({ email: 'dee@example.com', name: 'Dee', password: PW });
    const attempts: [unknown, unknown][] = [
      ['dee@example.com', 'a-good-passw0rD'],
      ['dee@example.com', ''],
      ['dee@example.com', PW + ' '],
      ['dee@example.com', 'x'.repeat(10_000)],
      ['dee@example.com', null],
      ['dee@example.com', { length: 3 }],
      ['nobody@example.com', PW],
      ['', PW],
      [null, null],
      [{ email: 'dee@example.com' }, PW],
      ["dee@example.com' OR 1=1 --", PW],
    ];
    for (const [email, pw] of attempts) expect(await accounts.verifyCredentials(email, pw), JSON.stringify([email, pw]).slice(0, 80)).toBeNull();
  });

  it('an account without a password (OAuth only) cannot sign in with one', async () => {
    t.db.insert(users).values({ id: 'oauth-1', email: 'oa@example.com', name: 'OA', passwordHash: null, createdAt: new Date() }).run();
    for (const pw of ['', PW, 'null']) expect(await accounts.verifyCredentials('oa@example.com', pw)).toBeNull();
  });

  it('hashes for unknown emails too, so timing does not reveal which emails exist', async () => {
    // Asserted on behaviour, not on a stopwatch: an unknown email still runs a full scrypt
    // verification against a dummy hash made with the same parameters as real ones.
    const store = new AccountStore(t.db, { scrypt: { ln: 10, r: 8, p: 1 } });
    expect(store['dummyHash']).toBeUndefined();
    expect(await store.verifyCredentials('nobody@example.com', 'wrong-passw0rd')).toBeNull();
    const dummy = await store['dummyHash'];
    expect(dummy).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
  });

  it('re-hashes a password stored with older parameters at sign-in', async () => {
    const old = new AccountStore(t.db, { scrypt: { ln: 9, r: 8, p: 1 } });
    const u = await old.createUser({ email: 'up@example.com', name: 'Up', password: PW });
    const hashOf = () => t.db.select().from(users).where(eq(users.id, u.id)).get()!.passwordHash;
    expect(hashOf()).toMatch(/ln=9,/);
    expect(await accounts.verifyCredentials('up@example.com', PW)).toEqual(u);
    expect(hashOf()).toMatch(/ln=10,/);
    expect(await accounts.verifyCredentials('up@example.com', PW)).toEqual(u);
    expect(await accounts.verifyCredentials('up@example.com', 'wrong-passw0rd')).toBeNull();
  });
});

describe('normalizeEmail', () => {
  it('lowercases and trims, and refuses non-addresses', () => {
    expect(normalizeEmail(' A.B+tag@Sub.Example.ORG ')).toBe('a.b+tag@sub.example.org');
    expect(normalizeEmail('x')).toBeNull();
    expect(normalizeEmail(undefined)).toBeNull();
  });
});
