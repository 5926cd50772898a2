import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RoomStateInfo } from '../../shared/roomState';
import { FINAL_MARK_MAX_AGE_MS, MAX_FINAL_MARKS, forgetFinalCapture, isOwnFinalCapture, pruneFinalCaptures, rememberFinalCapture } from './finalCaptureMarks';
import { RoomStateSync } from './RoomStateSync';
import type { RoomStateClient } from './RoomStateClient';
import { gzip } from './snapshotStore';
import { finalStateHandoff } from '../room/finalState';

/** localStorage as the Storage interface describes it, in memory. */
class FakeStorage implements Storage {
  private m = new Map<string, string>();
  get length() {
    return this.m.size;
  }
  key(i: number) {
    return [...this.m.keys()][i] ?? null;
  }
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, String(v));
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
  clear() {
    this.m.clear();
  }
  keys() {
    return [...this.m.keys()].sort();
  }
}

const info = (captureId?: string): RoomStateInfo =>
  ({
    id: 's1',
    createdAt: 0,
    bytes: 10,
    manifest: { format: 1, guestVersion: 'g', diskVersion: null, overlayId: 'o', overlayGeneration: 1, ...(captureId ? { captureId } : {}), vm: { chunks: [], bytes: 0 }, pages: [] },
  }) as unknown as RoomStateInfo;

const DAY = 24 * 3600 * 1000;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('final-state marks', () => {
  it('tells the state this browser handed on from any other, and forgets it once restored', () => {
    const s = new FakeStorage();
    rememberFinalCapture('room-a', 'cap-1', s);
    expect(isOwnFinalCapture('room-a', info('cap-1'), s)).toBe(true);
    expect(isOwnFinalCapture('room-a', info('cap-2'), s)).toBe(false);
    expect(isOwnFinalCapture('room-a', info(), s)).toBe(false);
    expect(isOwnFinalCapture('room-b', info('cap-1'), s)).toBe(false);

    forgetFinalCapture('room-a', info('cap-2'), s); // another state: the mark still waits for its own
    expect(isOwnFinalCapture('room-a', info('cap-1'), s)).toBe(true);
    forgetFinalCapture('room-a', info('cap-1'), s);
    expect(s.length).toBe(0);
  });

  it('reads a mark written before marks carried their time', () => {
    const s = new FakeStorage();
    s.setItem('tandem-final-state:room-a', 'cap-old');
    expect(isOwnFinalCapture('room-a', info('cap-old'), s)).toBe(true);
  });

  it('drops marks older than the age bound at page start, dates undated ones, and leaves other keys alone', () => {
    const s = new FakeStorage();
    const now = 100 * DAY;
    rememberFinalCapture('old', 'c1', s, now - FINAL_MARK_MAX_AGE_MS - 1);
    rememberFinalCapture('recent', 'c2', s, now - DAY);
    s.setItem('tandem-final-state:legacy', 'c3');
    s.setItem('tandem-engine', 'v86');
    pruneFinalCaptures(s, now);
    expect(s.keys()).toEqual(['tandem-engine', 'tandem-final-state:legacy', 'tandem-final-state:recent']);
    expect(isOwnFinalCapture('legacy', info('c3'), s)).toBe(true);
    // The undated mark was dated at that pruning: it ages out like the others.
    pruneFinalCaptures(s, now + FINAL_MARK_MAX_AGE_MS + 1);
    expect(s.keys()).toEqual(['tandem-engine']);
  });

  it('keeps at most the newest MAX_FINAL_MARKS', () => {
    const s = new FakeStorage();
    const now = 10 * DAY;
    for (let i = 0; i < MAX_FINAL_MARKS + 5; i++) rememberFinalCapture(`room-${i}`, `c${i}`, s, now - 1000 * (i + 1));
    pruneFinalCaptures(s, now);
    expect(s.length).toBe(MAX_FINAL_MARKS);
    expect(isOwnFinalCapture('room-0', info('c0'), s)).toBe(true);
    expect(s.getItem(`tandem-final-state:room-${MAX_FINAL_MARKS}`)).toBeNull();
  });

  it('does nothing when storage is refused', () => {
    const refusing = new FakeStorage();
    refusing.setItem = () => {
      throw new Error('QuotaExceededError');
    };
    refusing.getItem = () => {
      throw new Error('SecurityError');
    };
    expect(() => rememberFinalCapture('r', 'c', refusing)).not.toThrow();
    expect(isOwnFinalCapture('r', info('c'), refusing)).toBe(false);
    expect(() => pruneFinalCaptures(refusing)).not.toThrow();
    expect(() => pruneFinalCaptures(null)).not.toThrow();
  });

  it('a restore that downloaded the marked state removes its mark (RoomStateSync.download)', async () => {
    const s = new FakeStorage();
    vi.stubGlobal('localStorage', s);
    rememberFinalCapture('room-a', 'cap-1');
    const vmGz = await gzip(new Uint8Array([1, 2, 3]).buffer);
    const client = { room: 'room-a', download: async () => ({ vmGz, pages: [] }) } as unknown as RoomStateClient;
    const sync = new RoomStateSync(client, {} as never, {} as never, {} as never);
    const got = await sync.download(info('cap-1'));
    expect(new Uint8Array(got.state)).toEqual(new Uint8Array([1, 2, 3]));
    expect(s.length).toBe(0);
  });

  it('a host page starting prunes the marks (finalStateHandoff)', () => {
    const s = new FakeStorage();
    vi.stubGlobal('localStorage', s);
    rememberFinalCapture('old', 'c1', s, Date.now() - FINAL_MARK_MAX_AGE_MS - 1000);
    rememberFinalCapture('new', 'c2', s);
    finalStateHandoff('new');
    expect(s.keys()).toEqual(['tandem-final-state:new']);
  });
});
