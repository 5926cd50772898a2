/** Every error code the server sends, by name. Clients switch on these; never on message text. */
export const ERROR_CODES = [
  'BAD_MESSAGE', // payload failed schema validation
  'TOO_LARGE', // payload over its byte cap
  'PROTOCOL_MISMATCH', // client speaks another protocol version
  'BAD_ROOM_ID', // room id not in the allowed alphabet
  'ROOM_NOT_FOUND', // no such room
  'NOT_HOST', // a host-only action from a guest (e.g. a second "host" racing the first)
  'NO_HOST', // input for a room whose host is away
  'RATE_LIMITED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT', // e.g. an Idempotency-Key reused for a different command, or cancelling a finished one
  'METHOD_NOT_ALLOWED',
  'UNAVAILABLE', // a feature switched off by configuration (API_KEY unset)
  'PASSWORD_TOO_SHORT', // under MIN_PASSWORD_CHARS (lib/auth/password.ts)
  'PASSWORD_TOO_LONG', // over MAX_PASSWORD_CHARS
  'PASSWORD_TOO_SIMPLE', // too few kinds of character, or a well-known password
  'EXPIRED', // an invite past its expiry
  'USED_UP', // an invite that reached its maximum uses
  'REVOKED', // an invite its room revoked
  'LAST_OWNER', // the change would leave a room without an owner
  'BAD_EMAIL', // sign-up: not an email address
  'BAD_NAME', // sign-up: empty, too long, or control characters in a name
  'EMAIL_TAKEN', // sign-up: an account with that email exists
  'INVITE_NOT_FOUND', // an unknown, forged or malformed invite token
  'INVITE_EXPIRED',
  'INVITE_REVOKED',
  'INVITE_USED_UP',
  'UNSUPPORTED_MEDIA', // a cookie-authenticated write without a JSON body (CSRF guard)
  'BAD_RECORDING', // an imported .cast that is not asciicast v2, damaged or truncated
  'STORAGE_FULL', // the server's disk is full: nothing was saved (earlier data is intact)
  'LENGTH_REQUIRED', // a request body of unknown length where the server must cap it before reading
  'UPSTREAM_FAILED', // the gateway's destination failed or answered badly (502)
  'UPSTREAM_TIMEOUT', // the gateway's destination did not answer in time (504)
  'STATE_CORRUPT', // a room state (or one of its chunks) that is damaged, cut short, or not a v86 state
  'STATE_VERSION', // a room state for another guest or disk version than the server runs
  'STATE_INCOMPLETE', // a room state naming chunks the server was never sent
  'QUOTA_EXCEEDED', // a cap on things one client, user or the server may hold (open rooms, always-on rooms, sockets)
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class TandemError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}
