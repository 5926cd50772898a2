import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { RoomRelay, MAX_MIRROR_BYTES_PER_ROOM, MAX_PENDING_BYTES_PER_GUEST, RESIZE_INTERVAL_MS } from './RoomRelay';
import { MAX_SCROLLBACK_BYTES } from './TerminalMirror';
import { MAX_INPUT_CHUNK_BYTES } from '../../lib/shared/protocol';
import { recordingTransport } from '../testing/recordingTransport';
import { errorCode } from '../testing/errorCode';

const peer = (id: string, clientId = `client-${id}`) => ({ id, clientId, wantHost: true });
const flush = () => new Promise((r) => setTimeout(r, 30));
/** One frame per host chunk, for tests about what happens to each frame. */
const UNCOALESCED = { frames: { intervalMs: 0 } };

let relay: RoomRelay;
afterEach(() => relay?.close());

describe('RoomRelay', () => {
  it('makes the first peer host and later ones guests; a racing second host is refused', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    expect(relay.handleConnect(peer('a'))).toBe('host');
    expect(relay.handleConnect(peer('b'))).toBe('guest');
    expect(errorCode(() => relay.handleMessage('b', 'term:out', { tab: 'main', seq: 1, data: 'x' }))).toBe('NOT_HOST');
    expect(errorCode(() => relay.handleMessage('b', 'term:resize', { tab: 'main', cols: 80, rows: 24 }))).toBe('NOT_HOST');
  });

  it('relays host output to guests in sequence and guest input to the host', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t, {}, UNCOALESCED);
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
    // Past the relay's coalescing delay; polled, since a loaded machine runs timers late.
    await vi.waitFor(() => expect(f.of('h', 'room:state').length).toBeGreaterThan(before), { timeout: 5000 });
    await new Promise((r) => setTimeout(r, 100)); // a second state, if one were coming, would be here by now
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
    expect(errorCode(() => relay.handleMessage('g', 'term:in', { tab: 'main', data: 'x'.repeat(MAX_INPUT_CHUNK_BYTES + 1) }))).toBe('TOO_LARGE');
    expect(errorCode(() => relay.handleMessage('g', 'term:in', { tab: '../etc', data: 'x' }))).toBe('BAD_MESSAGE');
    expect(errorCode(() => relay.handleMessage('g', 'term:in', null))).toBe('BAD_MESSAGE');
    expect(errorCode(() => relay.handleMessage('g', 'nope', {}))).toBe('BAD_MESSAGE');
    expect(errorCode(() => relay.handleMessage('stranger', 'term:in', { tab: 'main', data: 'x' }))).toBe('FORBIDDEN');
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
    expect(errorCode(() => relay.handleMessage('g', 'term:in', { tab: 'main', data: 'x' }))).toBe('NO_HOST');
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
    relay = new RoomRelay('r1', f.t, {}, UNCOALESCED);
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
  it('lets a human take over from the headless host (once it has saved the VM), which becomes a guest', () => {
    const f = recordingTransport();
    const changes: boolean[] = [];
    relay = new RoomRelay('r1', f.t, { onHostChange: (_r, c) => changes.push(c) });
    expect(relay.handleConnect({ ...peer('bot'), headless: true })).toBe('host');
    expect((f.of('bot', 'room:state').at(-1) as { hostHeadless: boolean }).hostHeadless).toBe(true);
    expect(relay.handleConnect(peer('human'))).toBe('guest');
    expect(f.of('bot', 'host:yield')).toEqual([{ peer: 'human', name: 'Guest' }]);
    relay.handleMessage('bot', 'host:give', { to: 'human' });
    expect((f.of('human', 'room:state').at(-1) as { seat: string }).seat).toBe('host');
    expect((f.of('bot', 'room:state').at(-1) as { seat: string }).seat).toBe('guest');
    expect(changes).toEqual([true, true]);
    expect(errorCode(() => relay.handleMessage('bot', 'term:out', { tab: 'main', seq: 1, data: 'x' }))).toBe('NOT_HOST');
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
    expect(errorCode(() => relay.handleMessage('h', 'term:out', { tab: 't2', seq: 2, data: 'x' }))).toBe('NOT_FOUND');
  });

  it('refuses guests managing tabs, closing main, duplicates and too many tabs', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    expect(errorCode(() => relay.handleMessage('g', 'tab:open', { tab: 'x', title: 'x' }))).toBe('NOT_HOST');
    expect(errorCode(() => relay.handleMessage('h', 'tab:close', { tab: 'main' }))).toBe('FORBIDDEN');
    expect(errorCode(() => relay.handleMessage('h', 'tab:open', { tab: 'main', title: 'again' }))).toBe('CONFLICT');
    expect(errorCode(() => relay.handleMessage('h', 'tab:open', { tab: 'y', title: '' }))).toBe('BAD_MESSAGE');
    for (let i = 1; i < 8; i++) relay.handleMessage('h', 'tab:open', { tab: `t${i}`, title: `T${i}` });
    expect(errorCode(() => relay.handleMessage('h', 'tab:open', { tab: 't9', title: 'one too many' }))).toBe('TOO_LARGE');
    expect(errorCode(() => relay.handleMessage('g', 'term:sync', { tab: 'nope' }))).toBe('NOT_FOUND');
  });
});

describe('RoomRelay output coalescing', () => {
  const frames = (f: ReturnType<typeof recordingTransport>, to: string) => f.of(to, 'term:out') as { tab: string; seq: number; data: string }[];

  afterEach(() => vi.useRealTimers());

  it('sends output after an idle moment at once, and a burst as one frame per interval', () => {
    vi.useFakeTimers();
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t, {}, { frames: { intervalMs: 16, now: () => Date.now() } });
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 1, data: 'l' });
    expect(frames(f, 'g')).toEqual([{ tab: 'main', seq: 1, data: 'l' }]); // a keystroke echo: no delay
    for (let i = 2; i <= 51; i++) relay.handleMessage('h', 'term:out', { tab: 'main', seq: i, data: `${i},` });
    expect(frames(f, 'g')).toHaveLength(1);
    vi.advanceTimersByTime(15);
    expect(frames(f, 'g')).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(frames(f, 'g')).toHaveLength(2);
    expect(frames(f, 'g')[1]).toEqual({ tab: 'main', seq: 2, data: Array.from({ length: 50 }, (_, k) => `${k + 2},`).join('') });
    // Idle again for longer than a frame: the next echo goes out at once.
    vi.advanceTimersByTime(40);
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 52, data: 's' });
    expect(frames(f, 'g').at(-1)).toEqual({ tab: 'main', seq: 3, data: 's' });
  });

  it('keeps order and sequence per terminal, losing and duplicating nothing, whatever the chunking and timing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ tab: fc.constantFrom('main', 't2'), data: fc.string({ minLength: 0, maxLength: 40 }), gapMs: fc.nat(25), retransmit: fc.boolean() }), { maxLength: 120 }),
        (chunks) => {
          vi.useFakeTimers();
          const f = recordingTransport();
          const r = new RoomRelay('r1', f.t, {}, { frames: { intervalMs: 16, maxFrameChars: 100, now: () => Date.now() } });
          try {
            r.handleConnect(peer('h'));
            r.handleConnect(peer('g'));
            r.handleMessage('h', 'tab:open', { tab: 't2', title: 'Two' });
            const hostSeq = { main: 0, t2: 0 };
            const sent = { main: '', t2: '' };
            for (const c of chunks) {
              vi.advanceTimersByTime(c.gapMs);
              const seq = ++hostSeq[c.tab];
              r.handleMessage('h', 'term:out', { tab: c.tab, seq, data: c.data });
              sent[c.tab] += c.data;
              if (c.retransmit) r.handleMessage('h', 'term:out', { tab: c.tab, seq, data: c.data }); // dropped as a duplicate
            }
            vi.advanceTimersByTime(100);
            for (const tab of ['main', 't2'] as const) {
              const got = frames(f, 'g').filter((x) => x.tab === tab);
              expect(got.map((x) => x.seq)).toEqual(got.map((_, i) => i + 1));
              expect(got.map((x) => x.data).join('')).toBe(sent[tab]);
              expect(got.every((x) => x.data.length > 0)).toBe(true);
            }
          } finally {
            r.close();
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 40 }, // each run builds a relay with two headless terminals (~50 ms)
    );
  }, 20_000);

  it('sends output waiting for its frame before a resize, as the host drew it', () => {
    vi.useFakeTimers();
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t, {}, { frames: { intervalMs: 16, now: () => Date.now() } });
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 1, data: 'a' });
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 2, data: 'b' }); // waits for the next frame
    relay.handleMessage('h', 'term:resize', { tab: 'main', cols: 100, rows: 30 });
    const order = f.sent.filter((s) => s.to === 'g' && (s.event === 'term:out' || s.event === 'term:resize')).map((s) => s.event);
    expect(order).toEqual(['term:out', 'term:out', 'term:resize']);
  });

  it('applies a burst of resizes as the first and the latest, so a host resizing in a loop cannot stall the server', () => {
    vi.useFakeTimers();
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    for (let i = 0; i < 50; i++) relay.handleMessage('h', 'term:resize', { tab: 'main', cols: 100 + i, rows: 30 });
    expect(f.of('g', 'term:resize')).toEqual([{ tab: 'main', cols: 100, rows: 30 }]);
    vi.advanceTimersByTime(RESIZE_INTERVAL_MS);
    expect(f.of('g', 'term:resize')).toEqual([
      { tab: 'main', cols: 100, rows: 30 },
      { tab: 'main', cols: 149, rows: 30 },
    ]);
  });

  it('gives a guest joining mid-burst a snapshot and then exactly the frames after it', async () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t, {}, { frames: { intervalMs: 16 } });
    relay.handleConnect(peer('h'));
    let seq = 0;
    const line = (n: number) => relay.handleMessage('h', 'term:out', { tab: 'main', seq: ++seq, data: `line ${n}\r\n` });
    for (let n = 1; n <= 40; n++) line(n); // the first goes out at once, the rest wait
    relay.handleConnect({ ...peer('late'), wantHost: false });
    for (let n = 41; n <= 60; n++) line(n);
    await new Promise((r) => setTimeout(r, 40));
    for (let n = 61; n <= 80; n++) line(n);
    await new Promise((r) => setTimeout(r, 60));
    const [snap] = f.of('late', 'term:snapshot') as { seq: number; data: string }[];
    const live = frames(f, 'late').filter((x) => x.seq > snap.seq);
    expect(live.map((x) => x.seq)).toEqual(live.map((_, i) => snap.seq + 1 + i));
    const seen = [...(snap.data + live.map((x) => x.data).join('')).matchAll(/line (\d+)/g)].map((m) => Number(m[1]));
    expect(seen).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
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
