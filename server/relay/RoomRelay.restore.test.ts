import { afterEach, describe, expect, it, vi } from 'vitest';
import { HOST_SEAT_KEPT_MS, RoomRelay, type RelayHooks, type RelayOptions } from './RoomRelay';
import { RESEND_WINDOW_MS } from './HostSeat';
import { recordingTransport } from '../testing/recordingTransport';

const flush = () => new Promise((r) => setTimeout(r, 30));
let relay: RoomRelay;
afterEach(() => {
  relay?.close();
  vi.useRealTimers();
});

/** A relay starting after a restart, as the recordings describe the room. */
function restored(frames: { seq: number; data: string }[] | null = null, opts: RelayOptions = { frames: { intervalMs: 0 } }) {
  const f = recordingTransport();
  const recorded: unknown[] = [];
  const hooks: RelayHooks = {
    restore: () => ({ hostClientId: 'host-page', tabs: [{ id: 'main', title: 'Terminal', seq: 10, hostSeq: 40, cols: 80, rows: 24, replay: ['$ echo hi\r\nhi\r\n$ '] }] }),
    since: (_room, _tab, seq) => (frames === null ? null : frames.filter((x) => x.seq > seq)),
    record: (...a) => void recorded.push(a),
  };
  relay = new RoomRelay('r1', f.t, hooks, opts);
  return { f, recorded };
}

describe('RoomRelay after a restart', () => {
  it('continues each tab’s sequence and screen; a resuming guest gets only the frames it missed', async () => {
    const { f } = restored([
      { seq: 9, data: 'nine' },
      { seq: 10, data: 'ten' },
    ]);
    relay.handleConnect({ id: 'g1', clientId: 'guest-1', wantHost: false, resume: { main: 8 } });
    expect(f.of('g1', 'term:out')).toEqual([
      { tab: 'main', seq: 9, data: 'nine' },
      { tab: 'main', seq: 10, data: 'ten' },
    ]);
    relay.handleConnect({ id: 'g2', clientId: 'guest-2', wantHost: false, resume: { main: 10 } });
    relay.handleConnect({ id: 'g3', clientId: 'guest-3', wantHost: false });
    await vi.waitFor(() => expect(f.of('g3', 'term:snapshot')).toHaveLength(1));
    await flush();
    expect(f.of('g1', 'term:snapshot')).toEqual([]);
    expect(f.of('g2', 'term:snapshot')).toEqual([]);
    expect(f.of('g2', 'term:out')).toEqual([]);
    // A newcomer gets the restored screen, numbered where the room stopped.
    expect(f.of('g3', 'term:snapshot')).toEqual([expect.objectContaining({ tab: 'main', seq: 10, data: expect.stringContaining('hi') })]);
  });

  it('gives a guest whose frames are no longer kept (or who is ahead) a snapshot instead', async () => {
    const { f } = restored(null);
    relay.handleConnect({ id: 'g1', clientId: 'guest-1', wantHost: false, resume: { main: 3 } });
    relay.handleConnect({ id: 'g2', clientId: 'guest-2', wantHost: false, resume: { main: 99 } });
    await vi.waitFor(() => expect(f.of('g1', 'term:snapshot')).toHaveLength(1));
    await vi.waitFor(() => expect(f.of('g2', 'term:snapshot')).toHaveLength(1));
  });

  it('keeps the seat for the page that hosted; it resumes its numbering and resends what was lost, in order', () => {
    const { f, recorded } = restored([]);
    expect(relay.handleConnect({ id: 'other', clientId: 'other-page', wantHost: true })).toBe('guest');
    expect(relay.handleConnect({ id: 'h', clientId: 'host-page', wantHost: true })).toBe('host');
    expect(f.of('h', 'term:ack')).toEqual([{ tab: 'main', hostSeq: 40 }]);
    // Frames 41 and 42 died with the old server; 43 arrives first (the socket's own buffer) and waits.
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 43, data: 'c' });
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 41, data: 'a' });
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 42, data: 'b' });
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 43, data: 'c' });
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 42, data: 'b' }); // a duplicate
    expect(f.of('other', 'term:out')).toEqual([
      { tab: 'main', seq: 11, data: 'a' },
      { tab: 'main', seq: 12, data: 'b' },
      { tab: 'main', seq: 13, data: 'c' },
    ]);
    expect(recorded.map((r) => (r as unknown[]).slice(1, 5))).toEqual([
      ['main', 11, 41, 'a'],
      ['main', 12, 42, 'b'],
      ['main', 13, 43, 'c'],
    ]);
  });

  it('hands the seat to the first page waiting to host when the previous host does not come back', () => {
    vi.useFakeTimers();
    const { f } = restored([]);
    expect(relay.handleConnect({ id: 'p1', clientId: 'page-1', wantHost: true })).toBe('guest');
    expect(relay.handleConnect({ id: 'p2', clientId: 'page-2', wantHost: true })).toBe('guest');
    vi.advanceTimersByTime(HOST_SEAT_KEPT_MS + 1);
    expect(relay.hasHost).toBe(true);
    expect(f.of('p1', 'room:state').at(-1)).toMatchObject({ seat: 'host' });
    expect(f.of('p2', 'room:state').at(-1)).toMatchObject({ seat: 'guest', hostConnected: true });
    // A new host numbers its frames from 1.
    relay.handleMessage('p1', 'term:out', { tab: 'main', seq: 1, data: 'x' });
    expect(f.of('p2', 'term:out')).toEqual([{ tab: 'main', seq: 11, data: 'x' }]);
  });
});

describe('RoomRelay record hook with output coalescing', () => {
  it('records exactly the frames guests get: same numbers, same data, the host chunk each ends with', async () => {
    const f = recordingTransport();
    const recorded: [string, number, number, string][] = [];
    relay = new RoomRelay('r1', f.t, { record: (_room, tab, seq, hostSeq, data) => void recorded.push([tab, seq, hostSeq, data]) }, { frames: { intervalMs: 20 } });
    relay.handleConnect({ id: 'h', clientId: 'host-page', wantHost: true });
    relay.handleConnect({ id: 'g', clientId: 'guest-page', wantHost: false });
    // A burst: the first chunk goes at once, the rest wait and become one frame.
    for (let i = 1; i <= 6; i++) relay.handleMessage('h', 'term:out', { tab: 'main', seq: i, data: `c${i} ` });
    await vi.waitFor(() => expect(recorded.at(-1)?.[2]).toBe(6));
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 7, data: '' }); // empty: numbered, nothing to send
    await new Promise((r) => setTimeout(r, 60));
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 8, data: 'c8' });
    await vi.waitFor(() => expect(recorded.at(-1)?.[2]).toBe(8));
    const got = f.of('g', 'term:out') as { tab: string; seq: number; data: string }[];
    expect(recorded.map(([tab, seq, , data]) => ({ tab, seq, data }))).toEqual(got);
    expect(recorded).toEqual([
      ['main', 1, 1, 'c1 '],
      ['main', 2, 6, 'c2 c3 c4 c5 c6 '],
      ['main', 3, 8, 'c8'],
    ]);
  });
});

describe('RoomRelay: a resumed host that no longer has the lost frames', () => {
  it('accepts the gap when the resend window ends and asks the host once more, so the terminal goes on', () => {
    vi.useFakeTimers();
    const { f } = restored([]);
    relay.handleConnect({ id: 'g', clientId: 'guest-page', wantHost: false });
    expect(relay.handleConnect({ id: 'h', clientId: 'host-page', wantHost: true })).toBe('host');
    // Frames 41–99 fell out of the page's resend buffer: what it sends starts at 100.
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 100, data: 'late' });
    expect(f.of('g', 'term:out')).toEqual([]);
    vi.advanceTimersByTime(RESEND_WINDOW_MS + 1);
    expect(f.of('h', 'term:ack')).toEqual([
      { tab: 'main', hostSeq: 40 },
      { tab: 'main', hostSeq: 40 },
    ]);
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 100, data: 'late' });
    relay.handleMessage('h', 'term:out', { tab: 'main', seq: 101, data: 'on' });
    expect(f.of('g', 'term:out')).toEqual([
      { tab: 'main', seq: 11, data: 'late' },
      { tab: 'main', seq: 12, data: 'on' },
    ]);
  });
});
