import { describe, expect, it } from 'vitest';
import { MAX_STATE_PAGES } from '../../shared/roomState';
import { finalStateMessageSchema } from './finalState';

/** What the final-state worker accepts from a page (any page of the origin may post to it). */
const good = () => ({
  type: 'tandem-final-state',
  room: 'room-a1',
  hostKey: 'k'.repeat(40),
  state: new ArrayBuffer(16),
  pages: [[0, new Uint8Array(4096), 0xffff]] as [number, Uint8Array, number][],
  guestVersion: '0123456789abcdef',
  diskVersion: null,
  overlayId: 'ov-1',
  overlayGeneration: 3,
  captureId: '6f1c2b9e-0000-4000-8000-000000000000',
});
const ok = (v: unknown) => finalStateMessageSchema.safeParse(v).success;

describe('the final-state worker’s message check', () => {
  it('accepts a page’s message as finalStateHandoff sends it', () => {
    const r = finalStateMessageSchema.safeParse(good());
    expect(r.success).toBe(true);
    expect(r.data?.pages[0]?.[1]).toBeInstanceOf(Uint8Array);
    expect(ok({ ...good(), diskVersion: 'abcd-1234', overlayId: null, pages: [] })).toBe(true);
  });

  it('refuses another kind of message, a bad room id, a missing or oversized host key or capture id', () => {
    expect(ok({ ...good(), type: 'something-else' })).toBe(false);
    for (const room of ['Room', '../x', '', 'a'.repeat(64)]) expect(ok({ ...good(), room }), room).toBe(false);
    expect(ok({ ...good(), hostKey: '' })).toBe(false);
    expect(ok({ ...good(), hostKey: 'k'.repeat(201) })).toBe(false);
    expect(ok({ ...good(), captureId: 'c'.repeat(65) })).toBe(false);
    const { captureId: _, ...noCapture } = good();
    expect(ok(noCapture)).toBe(false);
    expect(ok(null)).toBe(false);
    expect(ok('tandem-final-state')).toBe(false);
  });

  it('refuses a state that is not an ArrayBuffer and pages that are not [index ≥ 0, bytes, integer mask]', () => {
    expect(ok({ ...good(), state: new Uint8Array(16) })).toBe(false);
    expect(ok({ ...good(), state: 'AAAA' })).toBe(false);
    expect(ok({ ...good(), pages: [[-1, new Uint8Array(1), 1]] })).toBe(false);
    expect(ok({ ...good(), pages: [[1.5, new Uint8Array(1), 1]] })).toBe(false);
    expect(ok({ ...good(), pages: [[0, [1, 2, 3], 1]] })).toBe(false);
    expect(ok({ ...good(), pages: [[0, new Uint8Array(1), 0.5]] })).toBe(false);
    expect(ok({ ...good(), pages: [[0, new Uint8Array(1)]] })).toBe(false);
    expect(ok({ ...good(), overlayGeneration: Number.NaN })).toBe(false);
    expect(ok({ ...good(), diskVersion: undefined })).toBe(false);
  });

  it('refuses more pages than a room state may carry (MAX_STATE_PAGES)', () => {
    const page: [number, Uint8Array, number] = [0, new Uint8Array(0), 1];
    expect(ok({ ...good(), pages: Array.from({ length: MAX_STATE_PAGES }, () => page) })).toBe(true);
    expect(ok({ ...good(), pages: Array.from({ length: MAX_STATE_PAGES + 1 }, () => page) })).toBe(false);
  });
});
