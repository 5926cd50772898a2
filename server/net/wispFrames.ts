/**
 * Wisp v1 frames (https://github.com/MercuryWorkshop/wisp-protocol): one WebSocket binary message
 * each, `type u8 | stream id u32 LE | payload`. Four types; v86's client uses TCP streams only.
 */

export const FRAME = { CONNECT: 0x01, DATA: 0x02, CONTINUE: 0x03, CLOSE: 0x04 } as const;
export const STREAM_TCP = 0x01;
export const STREAM_UDP = 0x02;

/** Close reasons (Wisp v1 §"CLOSE"). */
export const CLOSE_REASON = {
  UNKNOWN: 0x01,
  VOLUNTARY: 0x02,
  NETWORK_ERROR: 0x03,
  INVALID: 0x41,
  UNREACHABLE: 0x42,
  CONNECT_TIMEOUT: 0x43,
  REFUSED: 0x44,
  IDLE_TIMEOUT: 0x47,
  BLOCKED: 0x48,
  THROTTLED: 0x49,
  CLIENT_ERROR: 0x81,
} as const;

/** Longest hostname a CONNECT may carry (DNS names are at most 253 characters). */
export const MAX_HOSTNAME_CHARS = 253;

export type WispFrame =
  | { type: 'connect'; stream: number; streamType: number; port: number; hostname: string }
  | { type: 'data'; stream: number; payload: Buffer }
  | { type: 'continue'; stream: number; remaining: number }
  | { type: 'close'; stream: number; reason: number };

/** Why a frame could not be read; the stream id when there was one, to close that stream. */
export class FrameError extends Error {
  constructor(
    message: string,
    readonly stream: number | null,
  ) {
    super(message);
  }
}

export function decodeFrame(buf: Buffer): WispFrame {
  if (buf.length < 5) throw new FrameError(`frame of ${buf.length} bytes is shorter than its header`, null);
  const type = buf[0];
  const stream = buf.readUInt32LE(1);
  const body = buf.subarray(5);
  switch (type) {
    case FRAME.CONNECT: {
      if (body.length < 4) throw new FrameError('CONNECT without stream type, port and hostname', stream);
      const hostname = body.subarray(3).toString('utf8');
      if (hostname.length > MAX_HOSTNAME_CHARS) throw new FrameError('CONNECT hostname too long', stream);
      return { type: 'connect', stream, streamType: body[0], port: body.readUInt16LE(1), hostname };
    }
    case FRAME.DATA:
      return { type: 'data', stream, payload: body };
    case FRAME.CONTINUE:
      if (body.length !== 4) throw new FrameError('CONTINUE needs a u32 buffer size', stream);
      return { type: 'continue', stream, remaining: body.readUInt32LE(0) };
    case FRAME.CLOSE:
      if (body.length !== 1) throw new FrameError('CLOSE needs one reason byte', stream);
      return { type: 'close', stream, reason: body[0] };
    default:
      throw new FrameError(`unknown frame type 0x${type.toString(16)}`, stream);
  }
}

function header(type: number, stream: number, bodyBytes: number): Buffer {
  const b = Buffer.allocUnsafe(5 + bodyBytes);
  b[0] = type;
  b.writeUInt32LE(stream, 1);
  return b;
}

export function connectFrame(stream: number, port: number, hostname: string, streamType = STREAM_TCP): Buffer {
  const host = Buffer.from(hostname, 'utf8');
  const b = header(FRAME.CONNECT, stream, 3 + host.length);
  b[5] = streamType;
  b.writeUInt16LE(port, 6);
  host.copy(b, 8);
  return b;
}

export function dataFrame(stream: number, payload: Uint8Array): Buffer {
  const b = header(FRAME.DATA, stream, payload.length);
  b.set(payload, 5);
  return b;
}

export function continueFrame(stream: number, remaining: number): Buffer {
  const b = header(FRAME.CONTINUE, stream, 4);
  b.writeUInt32LE(remaining, 5);
  return b;
}

export function closeFrame(stream: number, reason: number): Buffer {
  const b = header(FRAME.CLOSE, stream, 1);
  b[5] = reason;
  return b;
}
