import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { invites, memberships, users } from '../../drizzle/schema';
import { RoomStore } from '../rooms/RoomStore';
import { InviteStore } from './InviteStore';
import { MembershipStore } from './MembershipStore';
import { tempDb } from './tempDb';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'redeemRace.fixture.ts');
const PROCS = 3;
const USERS_PER_PROC = 30;
const MAX_USES = 41;
/** Starting a tsx process takes seconds, far more on a loaded machine. */
const RACE_TIMEOUT_MS = 120_000;

let t: ReturnType<typeof tempDb>;
const children: ChildProcess[] = [];
beforeEach(() => {
  t = tempDb();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill(); // only after a failure
  t.close();
});

/** Starts a redeemer process; resolves once it has opened the database. */
function redeemer(token: string, userIds: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, t.dir, token, ...userIds], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redeemer exited early (${code})`)));
  });
  const done = new Promise<{ tally: Record<string, number>; startedMs: number; finishedMs: number }>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length))) : reject(new Error(`redeemer exited ${code}`)))),
  );
  return { ready, done, go: () => child.stdin.write('go\n') };
}

describe('InviteStore under concurrent redemption', () => {
  it(`${PROCS} processes redeeming one invite at once never exceed maxUses`, async () => {
    const room = new RoomStore(t.db).create('Race').id;
    const members = new MembershipStore(t.db);
    const all: string[][] = [];
    t.db.insert(users).values({ id: 'owner', email: 'owner@example.com', name: 'O', passwordHash: null, createdAt: new Date() }).run();
    t.db.transaction(() => {
      for (let p = 0; p < PROCS; p++) {
        all.push([]);
        for (let i = 0; i < USERS_PER_PROC; i++) {
          const id = `p${p}-u${i}`;
          t.db.insert(users).values({ id, email: `${id}@example.com`, name: id, passwordHash: null, createdAt: new Date() }).run();
          all[p].push(id);
        }
      }
    });
    members.addOwner(room, 'owner');
    const { invite, token } = new InviteStore(t.db, members).create('owner', room, { maxUses: MAX_USES });

    const procs = all.map((ids) => redeemer(token, ids));
    await Promise.all(procs.map((p) => p.ready));
    for (const p of procs) p.go();
    const results = await Promise.all(procs.map((p) => p.done));

    // They really raced: at least two of them ran at the same time (on a loaded 2-core machine the
    // third may be scheduled only after the others are done; two writers are a race already).
    const overlapping = results.some((a, i) => results.some((b, j) => i !== j && a.startedMs < b.finishedMs && b.startedMs < a.finishedMs));
    expect(overlapping, JSON.stringify(results.map((r) => [r.startedMs, r.finishedMs]))).toBe(true);
    const sum = (k: string) => results.reduce((n, r) => n + (r.tally[k] ?? 0), 0);
    expect(sum('ok')).toBe(MAX_USES);
    expect(sum('USED_UP')).toBe(PROCS * USERS_PER_PROC - MAX_USES);
    expect(t.db.select().from(invites).where(eq(invites.id, invite.id)).get()!.uses).toBe(MAX_USES);
    expect(t.db.select().from(memberships).where(eq(memberships.roomId, room)).all()).toHaveLength(MAX_USES + 1); // + the owner
  }, RACE_TIMEOUT_MS);
});
