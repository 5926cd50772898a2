import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ScreenRelay, MAX_PENDING_SCREEN_BYTES_PER_GUEST } from './ScreenRelay';
import { RoomRelay } from './RoomRelay';
import { MAX_SCREEN_FRAME_BYTES, MIN_SCREEN_FRAME_INTERVAL_MS } from '../../lib/shared/protocol';
import { recordingTransport } from '../testing/recordingTransport';
import { errorCode } from '../testing/errorCode';

/** A tiny valid frame; `n` makes each one distinct. */
const frame = (seq: number, n = seq) => ({ seq, width: 720, height: 400, data: `data:image/jpeg;base64,${btoa(`frame-${n}`)}` });

describe('ScreenRelay', () => {
  let now = 0;
  let screen: ScreenRelay;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 1000;
  });
  afterEach(() => {
    screen?.close();
    vi.useRealTimers();
  });
  const make = (f: ReturnType<typeof recordingTransport>) =>
    (screen = new ScreenRelay(f.t, { guests: () => f.guests, now: () => now, minIntervalMs: MIN_SCREEN_FRAME_INTERVAL_MS }));

  it('sends a frame at once, coalesces faster ones into the latest, and numbers them itself', () => {
    const f = recordingTransport();
    f.guests.add('g');
    make(f);
    expect(screen.frame(frame(5))).toBe(true);
    expect(f.of('g', 'screen:frame')).toHaveLength(1);
    now += 10;
    screen.frame(frame(6));
    now += 10;
    screen.frame(frame(7));
    expect(f.of('g', 'screen:frame')).toHaveLength(1); // within the interval: held back
    now += MIN_SCREEN_FRAME_INTERVAL_MS;
    vi.advanceTimersByTime(MIN_SCREEN_FRAME_INTERVAL_MS);
    const got = f.of('g', 'screen:frame') as { seq: number; data: string }[];
    expect(got).toHaveLength(2); // frame 6 was replaced by 7 before it went out
    expect(got.map((x) => x.seq)).toEqual([1, 3]);
    expect(got[1].data).toBe(frame(7).data);
  });

  it('drops repeated or older host frames until a new host starts again from 1', () => {
    const f = recordingTransport();
    make(f);
    expect(screen.frame(frame(3))).toBe(true);
    expect(screen.frame(frame(3))).toBe(false);
    expect(screen.frame(frame(2))).toBe(false);
    screen.hostChanged();
    expect(screen.frame(frame(1, 99))).toBe(true);
    expect(screen.latestFrame?.data).toBe(frame(1, 99).data);
  });

  it('gives a late joiner the latest frame', () => {
    const f = recordingTransport();
    make(f);
    screen.sendLatest('late');
    expect(f.of('late', 'screen:frame')).toEqual([]);
    screen.frame(frame(1));
    screen.sendLatest('late');
    expect(f.of('late', 'screen:frame')).toHaveLength(1);
  });

  it('skips a guest that is not draining, then sends it only the latest frame once it has', () => {
    const f = recordingTransport();
    f.guests.add('fast').add('slow');
    f.pending.set('slow', MAX_PENDING_SCREEN_BYTES_PER_GUEST + 1);
    make(f);
    for (let i = 1; i <= 3; i++) {
      screen.frame(frame(i));
      now += MIN_SCREEN_FRAME_INTERVAL_MS;
      vi.advanceTimersByTime(MIN_SCREEN_FRAME_INTERVAL_MS);
    }
    expect(f.of('fast', 'screen:frame')).toHaveLength(3);
    expect(f.of('slow', 'screen:frame')).toHaveLength(0);
    f.pending.set('slow', 0);
    vi.advanceTimersByTime(500);
    const got = f.of('slow', 'screen:frame') as { data: string }[];
    expect(got).toHaveLength(1);
    expect(got[0].data).toBe(frame(3).data);
  });

  it('close() clears its timers', () => {
    const f = recordingTransport();
    f.guests.add('g');
    make(f);
    screen.frame(frame(1));
    screen.frame(frame(2));
    screen.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('RoomRelay screen events', () => {
  let relay: RoomRelay;
  afterEach(() => relay?.close());
  const peer = (id: string) => ({ id, clientId: `client-${id}`, wantHost: true });

  it('relays the host screen to guests and to a late joiner; guests may not send frames', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    relay.handleMessage('h', 'screen:frame', frame(1));
    expect(f.of('g', 'screen:frame')).toHaveLength(1);
    expect(errorCode(() => relay.handleMessage('g', 'screen:frame', frame(2)))).toBe('NOT_HOST');
    relay.handleConnect(peer('late'));
    expect((f.of('late', 'screen:frame')[0] as { data: string }).data).toBe(frame(1).data);
  });

  it('refuses malformed and oversized frames with named codes', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    const big = `data:image/jpeg;base64,${'A'.repeat(MAX_SCREEN_FRAME_BYTES)}`;
    expect(errorCode(() => relay.handleMessage('h', 'screen:frame', { ...frame(1), data: big }))).toBe('TOO_LARGE');
    expect(errorCode(() => relay.handleMessage('h', 'screen:frame', { ...frame(1), data: 'javascript:alert(1)' }))).toBe('BAD_MESSAGE');
    expect(errorCode(() => relay.handleMessage('h', 'screen:frame', { ...frame(1), data: 'data:text/html;base64,PGI+' }))).toBe('BAD_MESSAGE');
    expect(errorCode(() => relay.handleMessage('h', 'screen:frame', { ...frame(1), width: 0 }))).toBe('BAD_MESSAGE');
    expect(errorCode(() => relay.handleMessage('h', 'screen:frame', { ...frame(1), width: 100_000 }))).toBe('TOO_LARGE');
    expect(relay.latestScreenFrame).toBeNull();
  });

  it('passes guest keyboard and mouse to the host, validated, and refuses it with no host', () => {
    const f = recordingTransport();
    relay = new RoomRelay('r1', f.t);
    relay.handleConnect(peer('h'));
    relay.handleConnect(peer('g'));
    const input = { events: [{ kind: 'key', code: 'KeyA', down: true }, { kind: 'mouse', dx: 3, dy: -2, buttons: 1 }] };
    relay.handleMessage('g', 'screen:input', input);
    expect(f.of('h', 'screen:input')).toEqual([input]);
    expect(errorCode(() => relay.handleMessage('g', 'screen:input', { events: [] }))).toBe('BAD_MESSAGE');
    expect(errorCode(() => relay.handleMessage('g', 'screen:input', { events: [{ kind: 'key', code: '<script>', down: true }] }))).toBe('BAD_MESSAGE');
    expect(errorCode(() => relay.handleMessage('g', 'screen:input', { events: Array(65).fill({ kind: 'wheel', dy: 1 }) }))).toBe('TOO_LARGE');
    relay.handleClose('h');
    expect(errorCode(() => relay.handleMessage('g', 'screen:input', input))).toBe('NO_HOST');
  });
});
