import { describe, expect, it } from 'vitest';
import { roomSession, roomState } from './testing/fakeRoom';
import type { FinalStateHandoff } from './finalState';
import type { RawRoomStateCapture } from '../vm/RoomStateClient';

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A page-hidden signal the test fires, counting its listeners. */
function pageHidden() {
  const fns = new Set<() => void>();
  return {
    onPageHidden: (fn: () => void) => (fns.add(fn), () => void fns.delete(fn)),
    fire: () => fns.forEach((f) => f()),
    count: () => fns.size,
  };
}

describe('RoomSession handover (issue 11)', () => {
  it('gives its engine the upload key the server gave this host, and saves the VM on the server when the page is hidden', async () => {
    const hidden = pageHidden();
    const { c, engines, requests, session } = roomSession({ onPageHidden: hidden.onPageHidden });
    c.receive('room:state', roomState({ seat: 'guest' }));
    hidden.fire(); // a guest has no VM to save
    c.receive('room:state', roomState({ seat: 'host', hostKey: 'key-1', hostName: 'Ann' }));
    await tick();
    expect(requests[0].hostKey()).toBe('key-1');
    // The key changes with the next state (a new seat): the engine reads it when it uploads.
    c.receive('room:state', roomState({ seat: 'host', hostKey: 'key-2', hostName: 'Ann' }));
    expect(requests[0].hostKey()).toBe('key-2');
    hidden.fire();
    await tick();
    expect(engines[0].synced).toBe(1);
    session.dispose();
    expect(hidden.count()).toBe(0);
  });

  it('Take over asks the server; once seated it keeps the screen, boots the VM and says so; guests hear who hosts now', async () => {
    const { c, session, views, engines } = roomSession();
    c.receive('room:state', roomState({ seat: 'guest', hostName: 'Ann' }));
    expect(session.getSnapshot().notice).toBeNull(); // my first state: nothing changed for me
    c.receive('room:state', roomState({ seat: 'guest', hostConnected: false, hostName: null }));
    session.take();
    expect(c.of('host:take')).toEqual([{}]);
    c.receive('room:state', roomState({ seat: 'host', hostName: 'Bob', hostKey: 'k' }));
    await tick();
    expect(session.getSnapshot().notice).toBe('You are now hosting: the VM runs in this browser.');
    // The mirror's screen stays: the restored VM carries on where it was.
    expect(views.get('main')!.resets).toBe(0);
    expect(engines).toHaveLength(1);
    session.take(); // already hosting: nothing more to ask
    expect(c.of('host:take')).toHaveLength(1);

    const other = roomSession();
    other.c.receive('room:state', roomState({ seat: 'guest', hostName: 'Ann' }));
    other.c.receive('room:state', roomState({ seat: 'guest', hostName: 'Tandem (headless host)', hostHeadless: true }));
    expect(other.session.getSnapshot().notice).toBe('Tandem (headless host) is now hosting.');
  });

  it('gives the VM away only after saving it on the server, also when the headless host is asked to yield', async () => {
    const { c, session, engines } = roomSession();
    c.receive('room:state', roomState({ seat: 'host', hostKey: 'k', candidates: [{ peer: 'p2', name: 'Bob' }] }));
    await tick();
    await session.give('p2');
    expect(engines[0].synced).toBe(1);
    expect(c.of('host:give')).toEqual([{ to: 'p2' }]);
    c.receive('host:yield', { peer: 'p3', name: 'Cy' });
    await tick();
    expect(engines[0].synced).toBe(2);
    expect(c.of('host:give')).toEqual([{ to: 'p2' }, { to: 'p3' }]);
  });

  it('a failed upload is said, and the VM is still given away; Save VM says when the server has it too', async () => {
    const { c, session, engines } = roomSession();
    c.receive('room:state', roomState({ seat: 'host', hostKey: 'k' }));
    await tick();
    await session.save();
    expect(session.getSnapshot().notice).toMatch(/^Saved the VM \(1\.0 MB in 0\.5 s\), also on the server for the room’s next host/);
    engines[0].syncFails = Object.assign(new Error('this room’s saved VM states would take 300 MB, over its 256 MB quota'), { code: 'QUOTA_EXCEEDED' });
    await session.give('p2');
    expect(session.getSnapshot().notice).toBe('Could not save the VM on the server: this room’s saved VM states would take 300 MB, over its 256 MB quota');
    expect(c.of('host:give')).toEqual([{ to: 'p2' }]);
    // A guest gives nothing away.
    c.receive('room:state', roomState({ seat: 'guest' }));
    await session.give('p9');
    expect(c.of('host:give')).toHaveLength(1);
  });

  it('closing the page (or leaving it in-app) while hosting hands the VM, captured at once, to the final-state worker with its key', async () => {
    const leave = new Set<() => void>();
    const sent: [string, RawRoomStateCapture][] = [];
    const finalState: FinalStateHandoff = { onLeave: (fn) => (leave.add(fn), () => void leave.delete(fn)), send: (key, cap) => (sent.push([key, cap]), true) };
    const { c, session, engines } = roomSession({ finalState });
    c.receive('room:state', roomState({ seat: 'guest' }));
    leave.forEach((f) => f());
    expect(sent).toEqual([]); // a guest has no VM
    c.receive('room:state', roomState({ seat: 'host', hostKey: 'key-1' }));
    await tick();
    leave.forEach((f) => f());
    // Synchronous: nothing after an await would run in a closing page.
    expect(sent.map(([k, cap]) => [k, cap.state.byteLength])).toEqual([['key-1', 16]]);
    expect(engines[0].synced).toBe(0);
    session.dispose(); // an in-app link away: the same
    expect(sent.map(([k]) => k)).toEqual(['key-1', 'key-1']);
    expect(leave.size).toBe(0);
  });
});
