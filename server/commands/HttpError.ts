import type { ServerResponse } from 'node:http';
import { TandemError, errorBody, type ErrorCode } from '../../lib/shared/errors';
import { sendJson } from '../http/json';

/** The HTTP status each named error answers with. */
export const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  BAD_MESSAGE: 400,
  BAD_ROOM_ID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROOM_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA: 415,
  BAD_EMAIL: 400,
  BAD_NAME: 400,
  PASSWORD_TOO_SHORT: 400,
  PASSWORD_TOO_LONG: 400,
  PASSWORD_TOO_SIMPLE: 400,
  EMAIL_TAKEN: 409,
  LAST_OWNER: 409,
  INVITE_NOT_FOUND: 404,
  INVITE_EXPIRED: 410,
  INVITE_REVOKED: 410,
  INVITE_USED_UP: 410,
  EXPIRED: 410,
  REVOKED: 410,
  USED_UP: 410,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  UNAVAILABLE: 503,
  STATE_CORRUPT: 400,
  STATE_VERSION: 409,
  STATE_INCOMPLETE: 409,
};

/** A named error plus the response headers it needs (Allow, WWW-Authenticate, …). */
export class HttpError extends TandemError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}

/** Answers `{"error":{"code","message"}}`; anything that is not a TandemError is a 500 that says nothing more. */
export function sendHttpError(res: ServerResponse, e: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const code: ErrorCode = e instanceof TandemError ? e.code : 'INTERNAL';
  const message = e instanceof TandemError ? e.message : 'internal error';
  sendJson(res, STATUS_OF[code] ?? 500, errorBody(code, message), e instanceof HttpError ? e.headers : {});
}
