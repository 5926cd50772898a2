import { afterEach, describe, expect, it } from 'vitest';
import { RoomRelay, MAX_MIRROR_BYTES_PER_ROOM, MAX_PENDING_BYTES_PER_GUEST } from './RoomRelay';
import { MAX_SCROLLBACK_BYTES } from './TerminalMirror';
import { MAX_INPUT_CHUNK_BYTES } from '../../lib/shared/protocol';
import { recordingTransport } from '../testing/recordingTransport';
import { errCode } from '../testing/errCode';

const peer = (id: string, clientId = `client-${id}`) => ({ id, clientId, wantHost: true });
const flush = () => new Promise((r) => setTimeout(r, 30));

let relay: RoomRelay;
afterEach(() => relay?.close());

describe('RoomRelay', () => {
  it('makes the first peer host and later ones guests; a racing second host is refused', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    expect(relay.handleConnect(peer('a'))).toBe('host');
    expect(relay.handleConnect(peer('b'))).toBe('guest');
    expect(errCode(() => relay.handleMessage('b', 'term:out', { tab: 'main', seq: 1, data: 'x' }))).toBe('NOT_HOST');
    expect(errCode(() => relay.handleMessage('b', 'term:resize', { tab: 'main', cols: 80, rows: 24 }))).toBe('NOT_HOST');
  });

  it('relays host output to guests in sequence and guest input to the host', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 1, data: 'hello ' });
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 2, data: 'world' });
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 2, data: 'world' }); // retransmit
    expect(f.of('g', 'term:out')).toEqual([
      { tab: 'main', seq: 1, data: 'hello ' },
      { tab: 'main', seq: 2, data: 'world' },
    ]);
    relay.handleMessage('g', 'term:in', { tab: 'main', data: 'ls\r' });
    expect(f.of('h', 'term:in')).toEqual([{ tab: 'main', data: 'ls\r' }]);
  });

  it('broadcasts a changed host status once; the same status again sends nothing', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    const before = f.sent.length;
    const ready = { tab: 'main', phase: 'ready', progress: 1, message: 'Booted in 2 s' };
    relay.handleMessage('h', 'host:status', ready);
    expect(f.sent.length - before).toBe(2); // one state to the guest, one to the host
    expect((f.of('g', 'room:state').at(-1) as { hostStatus: unknown }).hostStatus).toEqual(ready);
    // A host re-sends its status after a reconnect; answering each with a state would loop.
    for (let i = 0; i < 5; i++) relay.handleMessage('h', 'host:status', { ...ready });
    expect(f.sent.length - before).toBe(2);
    relay.handleMessage('h', 'host:status', { ...ready, message: 'Restored in 1 s' });
    expect(f.sent.length - before).toBe(4);
  });

  it('tells everyone the guest count when guests arrive, once for a crowd arriving together', async () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    const before = f.of('h', 'room:state').length;
    for (const g of ['g1', 'g2', 'g3']) relay.handleConnect(peer(g));
    await new Promise((r) => setTimeout(r, 100)); // past the relay's coalescing delay
    const states = f.of('h', 'room:state').slice(before) as { guests: number }[];
    expect(states).toHaveLength(1);
    expect(states[0].guests).toBe(3);
    expect((f.of('g1', 'room:state').at(-1) as { guests: number }).guests).toBe(3);
  });

  it('gives a late guest the current screen as a snapshot', async () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 1, data: 'line one\r\nline two' });
    relay.handleConnect(peer('late'));
    await flush();
    const [snap] = f.of('late', 'term:snapshot') as { seq: number; data: string }[];
    expect(snap.seq).toBe(1);
    expect(snap.data).toContain('line one');
    expect(snap.data).toContain('line two');
  });

  it('names malformed and oversized messages', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    expect(errCode(() => relay.handleMessage('g', 'term:in', { tab: 'main', data: 'x'.repeat(MAX_INPUT_CHUNK_BYTES + 1) }))).toBe('TOO_LARGE');
    expect(errCode(() => relay.handleMessage('g', 'term:in', { tab: '../etc', data: 'x' }))).toBe('BAD_MESSAGE');
    expect(errCode(() => relay.handleMessage('g', 'term:in', null))).toBe('BAD_MESSAGE');
    expect(errCode(() => relay.handleMessage('g', 'nope', {}))).toBe('BAD_MESSAGE');
    expect(errCode(() => relay.handleMessage('stranger', 'term:in', { tab: 'main', data: 'x' }))).toBe('FORBIDDEN');
    // the room still works
    relay.handleMessage('g', 'term:in', { tab: 'main', data: 'ok' });
    expect(f.of('h', 'term:in')).toHaveLength(1);
  });

  it('tells guests the host left, refuses their input, and lets a host return', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    relay.handleClose('h');
    const states = f.of('g', 'room:state') as { hostConnected: boolean }[];
    expect(states.at(-1)?.hostConnected).toBe(false);
    expect(errCode(() => relay.handleMessage('g', 'term:in', { tab: 'main', data: 'x' }))).toBe('NO_HOST');
    expect(relay.handleConnect(peer('h2'))).toBe('host');
    relay.handleMessage('h2', 'term:out', { tab: 'main', seq: 1, data: 'back' });
    expect((f.of('g', 'term:out') as { data: string }[]).at(-1)?.data).toBe('back');
  });

  it('sends one head count for guests leaving together, not one per departure', async () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    const ids = Array.from({ length: 20 }, (_, i) => `g${i}`);
    for (const id of ids) relay.handleConnect({ ...peer(id), wantHost: false });
    const before = f.sent.length;
    for (const id of ids.slice(1)) relay.handleClose(id);
    await new Promise((r) => setTimeout(r, 100));
    const states = f.sent.slice(before).filter((s) => s.event === 'room:state' && (s.to === 'g0' || s.to === 'h'));
    expect(states.map((s) => [s.to, (s.payload as { guests: number }).guests]).sort()).toEqual([
      ['g0', 1],
      ['h', 1],
    ]);
  });

  it('lets the same browser tab reclaim its host seat before the old connection times out', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('old', 'tab-1'));
    expect(relay.handleConnect(peer('new', 'tab-1'))).toBe('host');
    expect(f.dropped).toEqual(['old']);
  });

  it('stops streaming to a guest that does not drain and resyncs it with a snapshot', async () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('slow'));
    relay.handleConnect(peer('fast'));
    await flush(); // join snapshots
    f.pending.set('slow', MAX_PENDING_BYTES_PER_GUEST + 1);
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 1, data: 'a' });
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 2, data: 'b' });
    expect(f.of('slow', 'term:out')).toHaveLength(0);
    expect(f.of('fast', 'term:out')).toHaveLength(2);
    const snapsBefore = f.of('slow', 'term:snapshot').length;
    f.pending.set('slow', 0);
    await new Promise((r) => setTimeout(r, 400));
    const snaps = f.of('slow', 'term:snapshot') as { seq: number; data: string }[];
    expect(snaps.length).toBe(snapsBefore + 1);
    expect(snaps.at(-1)?.seq).toBe(2);
    expect(snaps.at(-1)?.data).toContain('ab');
  });
});

describe('RoomRelay with a headless host', () => {
  it('lets a human take over from the headless host, which becomes a guest', () => {
    const f = recordingTransport();
    const changes: boolean[] = [];
    relay = new RoomRelay('r1', f.t, { onHostChange: (_r, c) => changes.push(c) });
    expect(relay.handleConnect({ ...peer('bot'), headless: true })).toBe('host');
    expect((f.of('bot', 'room:state').at(-1) as { hostHeadless: boolean }).hostHeadless).toBe(true);
    expect(relay.handleConnect(peer('human'))).toBe('host');
    expect((f.of('bot', 'room:state').at(-1) as { role: string }).role).toBe('guest');
    expect(changes).toEqual([true, false, true]);
    expect(errCode(() => relay.handleMessage('bot', 'term:out', { tab: 'main', seq: 1, data: 'x' }))).toBe('NOT_HOST');
  });

  it('does not let a headless peer displace a human host', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('human'));
    expect(relay.handleConnect({ ...peer('bot'), headless: true })).toBe('guest');
  });
});

describe('RoomRelay tabs', () => {
  it('lets the host open and close terminals; each has its own stream and mirror', async () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    relay.handleMessage('h', 'tab:open', { tab: 't2', title: 'Build' });
    expect((f.of('g', 'room:state').at(-1) as { tabs: unknown }).tabs).toEqual([
      { id: 'main', title: 'Terminal' },
      { id: 't2', title: 'Build' },
    ]);
    relay.handleMessage('h', 'term:out', { tab: 't2', seq: 1, data: 'in tab two' });
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 1, data: 'in main' });
    expect(f.of('g', 'term:out')).toEqual([
      { tab: 't2', seq: 1, data: 'in tab two' },
      { tab: 'main', seq: 1, data: 'in main' },
    ]);
    expect((await relay.snapshot('t2')).data).toContain('in tab two');
    expect((await relay.snapshot('main')).data).not.toContain('in tab two');
    relay.handleMessage('h', 'tab:close', { tab: 't2' });
    expect(errCode(() => relay.handleMessage('h', 'term:out', { tab: 't2', seq: 2, data: 'x' }))).toBe('NOT_FOUND');
  });

  it('refuses guests managing tabs, closing main, duplicates and too many tabs', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    expect(errCode(() => relay.handleMessage('g', 'tab:open', { tab: 'x', title: 'x' }))).toBe('NOT_HOST');
    expect(errCode(() => relay.handleMessage('h', 'tab:close', { tab: 'main' }))).toBe('FORBIDDEN');
    expect(errCode(() => relay.handleMessage('h', 'tab:open', { tab: 'main', title: 'again' }))).toBe('CONFLICT');
    expect(errCode(() => relay.handleMessage('h', 'tab:open', { tab: 'y', title: '' }))).toBe('BAD_MESSAGE');
    for (let i = 1; i < 8; i++) relay.handleMessage('h', 'tab:open', { tab: `t${i}`, title: `T${i}` });
    expect(errCode(() => relay.handleMessage('h', 'tab:open', { tab: 't9', title: 'one too many' }))).toBe('TOO_LARGE');
    expect(errCode(() => relay.handleMessage('g', 'term:sync', { tab: 'nope' }))).toBe('NOT_FOUND');
  });
});

describe('RoomRelay mirror memory (attacker)', () => {
  it('8 of the widest tabs stay within the room’s mirror budget', () => {
    const f = recordingTransport();
    relay = new RoomRelay('wide', f.t);
    relay.handleConnect(peer('h'));
    relay.handleMessage('h', 'term:resize', { tab: 'main', cols: 500, rows: 300 });
    for (let i = 1; i < 8; i++) {
      relay.handleMessage('h', 'tab:open', { tab: `t${i}`, title: `T${i}` });
      relay.handleMessage('h', 'term:resize', { tab: `t${i}`, cols: 500, rows: 300 });
    }
    expect(relay.mirrorBytes).toBeLessThanOrEqual(MAX_MIRROR_BYTES_PER_ROOM);
    // A lone tab keeps its full history.
    relay.close();
    relay = new RoomRelay('one', f.t);
    relay.handleConnect(peer('h'));
    expect(relay.mirrorBytes).toBeGreaterThan(MAX_SCROLLBACK_BYTES * 0.99);
  });
});
