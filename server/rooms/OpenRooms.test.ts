import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Db } from '../db';
import { tempDb } from '../accounts/tempDb';
import { RoomStore } from './RoomStore';
import { OpenRooms } from './OpenRooms';
import { clientPrefix } from '../access/clientPrefix';
import { errorCode } from '../testing/errorCode';

let tmp: ReturnType<typeof tempDb>;
let db: Db;
let guard: OpenRooms | undefined;
beforeEach(() => {
  tmp = tempDb();
  db = tmp.db;
});
afterEach(() => {
  guard?.close();
  tmp.close();
});

function make(opts: { maxPerClient?: number; maxOpenRooms?: number }) {
  const rooms = new RoomStore(db);
  guard = new OpenRooms({ rooms, secret: 's'.repeat(32), log: pino({ level: 'silent' }), rate: { points: 1000, windowMs: 1000 }, isLive: () => false, ...opts });
  const create = (ip: string) => rooms.create('r', { creatorKey: guard!.admit(ip) });
  return { rooms, create };
}

describe('OpenRooms', () => {
  it('caps the open rooms one client holds; other clients are not affected', () => {
    const { create } = make({ maxPerClient: 2 });
    create('203.0.113.5');
    create('203.0.113.5');
    expect(errorCode(() => create('203.0.113.5'))).toBe('QUOTA_EXCEEDED');
    expect(errorCode(() => create('::ffff:203.0.113.5'))).toBe('QUOTA_EXCEEDED');
    expect(errorCode(() => create('203.0.113.6'))).toBe('ok');
  });

  it('counts an IPv6 /64 as one client (one subscriber holds it whole)', () => {
    const { create } = make({ maxPerClient: 2 });
    create('2001:db8:1:2::1');
    create('2001:db8:1:2:ffff::9');
    expect(errorCode(() => create('2001:db8:1:2:abcd::1'))).toBe('QUOTA_EXCEEDED');
    expect(errorCode(() => create('2001:db8:1:3::1'))).toBe('ok');
    expect(clientPrefix('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
  });

  it('a full server reclaims idle rooms before refusing', () => {
    const { rooms, create } = make({ maxOpenRooms: 2 });
    const old = rooms.create('old', { creatorKey: 'x' });
    db.$client.prepare('UPDATE rooms SET created_at = ? WHERE id = ?').run(Date.now() - guard!.idleMs - 1000, old.id);
    create('198.51.100.1');
    expect(errorCode(() => create('198.51.100.2'))).toBe('ok');
    expect(rooms.get(old.id)).toBeUndefined();
    expect(errorCode(() => create('198.51.100.3'))).toBe('QUOTA_EXCEEDED');
  });
});
