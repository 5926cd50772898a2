import type { IncomingMessage, ServerResponse } from 'node:http';
import { TandemError, errorBody, type ErrorCode } from '../../lib/shared/errors';
import { HttpError, statusOf } from './errors';
import { isStorageFull, STORAGE_FULL_MESSAGE } from './storageFull';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Answers `{"error":{"code","message"}}`; anything that is not a TandemError is a 500 that says nothing more. */
export function sendHttpError(res: ServerResponse, e: unknown): void {
  if (res.headersSent || res.destroyed) return;
  // A full disk is said as such (507, try later), whichever store ran into it.
  if (isStorageFull(e)) return sendJson(res, 507, errorBody('STORAGE_FULL', STORAGE_FULL_MESSAGE), { 'retry-after': '60' });
  const code: ErrorCode = e instanceof TandemError ? e.code : 'INTERNAL';
  const message = e instanceof TandemError ? e.message : 'internal error';
  sendJson(res, statusOf(e), errorBody(code, message), e instanceof HttpError ? e.headers : {});
}

/** Reads a request body up to `maxBytes`; a 413 HttpError beyond it (checked against Content-Length before a byte is read). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return (await readBuffer(req, maxBytes)).toString('utf8');
}

/**
 * How a body over its cap is refused: a string names it (`<what> is over N bytes`), or the 413's
 * whole message is given, with `refused` called once per refusal (a route counting them).
 */
export type TooLargeSay = string | { message: string; refused?: () => void };

/** A request's raw bytes, up to `maxBytes`, with readBody's 413 (`say`: what the refusal says). */
export async function readBuffer(req: IncomingMessage, maxBytes: number, say: TooLargeSay = 'request body'): Promise<Buffer> {
  const tooLarge = () => {
    if (typeof say !== 'string') say.refused?.();
    const message = typeof say === 'string' ? `${say} is over ${maxBytes} bytes` : say.message;
    return new HttpError('TOO_LARGE', message, { connection: 'close' });
  };
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A JSON object body of at most `maxBytes` (empty: `{}`); 413 / 400 HttpErrors otherwise. */
export async function readJsonObject(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const text = await readBody(req, maxBytes);
  if (text.trim() === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HttpError('BAD_MESSAGE', 'the request body is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new HttpError('BAD_MESSAGE', 'the request body must be a JSON object');
  return data as Record<string, unknown>;
}

