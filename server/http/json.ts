import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { errorBody, type ErrorCode } from '../../lib/shared/errors';
import { HttpError } from '../commands/HttpError';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  sendJson(res, status, errorBody(code, message));
}

/** Reads a request body up to `maxBytes`; throws 'TOO_LARGE' beyond it. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw Object.assign(new Error('body too large'), { code: 'TOO_LARGE' as const });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON object body of at most `maxBytes` (empty: `{}`); 413 / 400 HttpErrors otherwise. */
export async function readJsonObject(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const tooLarge = new HttpError('TOO_LARGE', `request body is over ${maxBytes} bytes`, { connection: 'close' });
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw tooLarge;
  let text: string;
  try {
    text = await readBody(req, maxBytes);
  } catch (e) {
    if ((e as { code?: string }).code === 'TOO_LARGE') throw tooLarge;
    throw e;
  }
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

/** A body or query checked against its schema; 400 BAD_MESSAGE naming the first problem otherwise. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what = 'body'): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new HttpError('BAD_MESSAGE', `${i?.path.join('.') || what}: ${i?.message ?? 'invalid'}`);
  }
  return r.data;
}
