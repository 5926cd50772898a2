/**
 * A child process for InviteStore.race.integration.test.ts: opens the same SQLite file and redeems
 * one invite for each of its users as fast as it can once told to go. Prints its tally and when it
 * started and finished (so the test can check the processes really overlapped) as JSON.
 * Usage: node --import tsx redeemRace.fixture.ts <dataDir> <token> <userId>...
 */
import { openDb } from '../db';
import { TandemError } from '../../lib/shared/errors';
import { InviteStore } from './InviteStore';
import { MembershipStore } from './MembershipStore';

const [dir, token, ...userIds] = process.argv.slice(2);
const db = openDb(dir);
const invites = new InviteStore(db, new MembershipStore(db));
const tally: Record<string, number> = {};
let startedMs = 0;
process.stdout.write('ready\n');
process.stdin.once('data', () => {
  startedMs = performance.timeOrigin + performance.now();
  for (const userId of userIds) {
    let outcome = 'ok';
    try {
      invites.redeem(token, { userId });
    } catch (e) {
      outcome = e instanceof TandemError ? e.code : String(e);
    }
    tally[outcome] = (tally[outcome] ?? 0) + 1;
  }
  const finishedMs = performance.timeOrigin + performance.now();
  db.$client.close();
  process.stdout.write(JSON.stringify({ tally, startedMs, finishedMs }) + '\n');
  process.exit(0);
});
