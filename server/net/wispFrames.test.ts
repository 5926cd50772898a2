import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameError, closeFrame, connectFrame, continueFrame, dataFrame, decodeFrame } from './wispFrames';

describe('Wisp v1 frames', () => {
  it('round-trips the four frame types', () => {
    expect(decodeFrame(connectFrame(7, 443, '93.184.216.34'))).toEqual({ type: 'connect', stream: 7, streamType: 1, port: 443, hostname: '93.184.216.34' });
    expect(decodeFrame(dataFrame(0xffffffff, Buffer.from([0, 1, 2])))).toEqual({ type: 'data', stream: 0xffffffff, payload: Buffer.from([0, 1, 2]) });
    expect(decodeFrame(continueFrame(0, 128))).toEqual({ type: 'continue', stream: 0, remaining: 128 });
    expect(decodeFrame(closeFrame(3, 0x48))).toEqual({ type: 'close', stream: 3, reason: 0x48 });
  });

  it('is little-endian on the wire, as v86 writes it', () => {
    expect([...connectFrame(1, 80, 'a')]).toEqual([1, 1, 0, 0, 0, 1, 80, 0, 97]);
  });

  it.each([
    ['short', Buffer.from([1, 2]), null],
    ['unknown type', Buffer.from([9, 5, 0, 0, 0]), 5],
    ['CONNECT without a hostname', Buffer.from([1, 6, 0, 0, 0, 1, 80]), 6],
    ['CONTINUE of 3 bytes', Buffer.from([3, 1, 0, 0, 0, 1, 2, 3]), 1],
    ['CLOSE without a reason', Buffer.from([4, 2, 0, 0, 0]), 2],
    ['a hostname over 253 characters', connectFrame(4, 80, 'a'.repeat(254)), 4],
  ])('refuses %s, naming the stream when it can', (_n, buf, stream) => {
    try {
      decodeFrame(buf);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FrameError);
      expect((e as FrameError).stream).toBe(stream);
    }
  });

  it('never throws anything but FrameError, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeFrame(Buffer.from(bytes));
        } catch (e) {
          if (!(e instanceof FrameError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
