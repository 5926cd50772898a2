import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { as, signUp } from '../testing/accounts';
import { MAX_ALWAYS_ON_PER_USER } from './accountRoutes';
import { RateLimiter, SIGN_IN_PER_EMAIL, SIGN_IN_PER_IP } from './RateLimiter';
import { attemptSignIn } from '../auth/signInAttempt';

/** Attacker tests on what one account may take from everyone (issue 9, weak spots). */
type Srv = Awaited<ReturnType<typeof startServer>>;
let srv: Srv;
beforeAll(async () => {
  srv = await startServer({ HEADLESS: 'off' });
});
afterAll(async () => {
  await srv?.close();
});

describe('always-on rooms per user (attacker)', () => {
  it('one account cannot take every headless browser; others still can', async () => {
    const greedy = await signUp(srv, 'Greta Greedy');
    const room = async (u: { cookie: string }) => (await as(srv, u.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'vm' } })).json.room.id as string;
    const on = (u: { cookie: string }, id: string) => as(srv, u.cookie, `/api/rooms/${id}`, { method: 'PATCH', json: { alwaysOn: true } });
    for (let i = 0; i < MAX_ALWAYS_ON_PER_USER; i++) expect((await on(greedy, await room(greedy))).status).toBe(200);
    const over = await on(greedy, await room(greedy));
    expect([over.status, over.json.error.code]).toEqual([429, 'QUOTA_EXCEEDED']);
    const other = await signUp(srv, 'Otto Other');
    expect((await on(other, await room(other))).status).toBe(200);
  });
});

describe('sign-in limits (attacker: lock the owner out)', () => {
  it('failing on purpose for someone’s email from one address does not lock them out elsewhere', async () => {
    const victim = await signUp(srv, 'Vera Victim');
    const limits = { accounts: srv.server.accounts, signInPerIp: new RateLimiter(SIGN_IN_PER_IP), signInPerEmail: new RateLimiter(SIGN_IN_PER_EMAIL) };
    const results: unknown[] = [];
    for (let i = 0; i < SIGN_IN_PER_EMAIL.points + 3; i++) results.push(await attemptSignIn(limits, { email: victim.email, password: `guess-${i}`, ip: '203.0.113.66' }));
    expect(results.at(-1)).toBe('rate_limited');
    expect(results.filter((r) => r === null)).toHaveLength(SIGN_IN_PER_EMAIL.points);
    // The guesser stays limited, even with the right password; the owner, elsewhere, gets in.
    expect(await attemptSignIn(limits, { email: victim.email, password: 'correct horse battery 9', ip: '203.0.113.66' })).toBe('rate_limited');
    expect(await attemptSignIn(limits, { email: ` ${victim.email.toUpperCase()} `, password: 'correct horse battery 9', ip: '198.51.100.7' })).toMatchObject({ id: victim.id });
  });
});
