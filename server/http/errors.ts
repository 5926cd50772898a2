import { TandemError, type ErrorCode } from '../../lib/shared/errors';

/** The HTTP status each named error answers with; a code missing here is a 500. */
export const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  BAD_MESSAGE: 400,
  BAD_ROOM_ID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROOM_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  LENGTH_REQUIRED: 411,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA: 415,
  BAD_RECORDING: 400,
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
  STORAGE_FULL: 507,
  UNAVAILABLE: 503,
  UPSTREAM_FAILED: 502,
  UPSTREAM_TIMEOUT: 504,
  STATE_CORRUPT: 400,
  STATE_VERSION: 409,
  STATE_INCOMPLETE: 409,
};

/** A named error plus the response headers it needs (Allow, WWW-Authenticate, …). Handlers throw it; the router answers it. */
export class HttpError extends TandemError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}

export function statusOf(e: unknown): number {
  return e instanceof TandemError ? (STATUS_OF[e.code] ?? 500) : 500;
}
