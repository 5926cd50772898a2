import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './HttpError';
import { API_TOKEN_PREFIX } from '../accounts/ApiTokenStore';

/**
 * Who is calling the command API: the server's API_KEY (every room) or a user's API token (the
 * rooms that user manages, nothing else). Every route asks `mayUseRoom`; listings filter by `roomIds`.
 */
export interface ApiPrincipal {
  kind: 'apiKey' | 'user';
  /** The token's owner, for kind 'user'. */
  userId?: string;
  /** A room the principal may not use is reported as not found, like one that does not exist. */
  mayUseRoom(roomId: string): boolean;
  /** Every room it may use, for listings filtered in the query; null: all rooms (the API key). */
  roomIds(): readonly string[] | null;
}

/** Authenticates one request or throws 401/503 as an HttpError. The one place the API checks credentials. */
export type ApiAuthenticator = (req: IncomingMessage, url: URL) => ApiPrincipal;

const API_KEY_PRINCIPAL: ApiPrincipal = { kind: 'apiKey', mayUseRoom: () => true, roomIds: () => null };

/** The credential a request carries: `?api_key=`, `Authorization: Bearer`, or `x-api-key`. */
export function presentedKey(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
  const header = req.headers['x-api-key'];
  return url.searchParams.get('api_key') ?? (bearer || undefined) ?? (typeof header === 'string' ? header : undefined);
}

/** Per-user API tokens (server/accounts/ApiTokenStore.ts) and the rooms their owner may push commands to. */
export interface ApiTokenCheck {
  /** The token's user, or null when it is unknown or revoked. */
  authenticate(token: string): string | null;
  mayUseRoom(userId: string, roomId: string): boolean;
  /** The rooms `mayUseRoom` allows, all of them. */
  roomIds(userId: string): readonly string[];
}

/**
 * Accepts the server's API_KEY (every room) and per-user API tokens (`tdm_…`, only the rooms where
 * their user is instructor or owner: never open rooms, whose only protection is their secret link). With no API_KEY and no token presented, the API is off (503).
 */
export function apiKeyAuthenticator(apiKey: string | undefined, tokens?: ApiTokenCheck): ApiAuthenticator {
  const keyDigest = apiKey ? sha256(apiKey) : null;
  return (req, url) => {
    const given = presentedKey(req, url);
    const challenge = { 'www-authenticate': 'Bearer' };
    if (tokens && given?.startsWith(API_TOKEN_PREFIX)) {
      const userId = tokens.authenticate(given);
      if (!userId) throw new HttpError('UNAUTHORIZED', 'unknown or revoked API token', challenge);
      return { kind: 'user', userId, mayUseRoom: (room) => tokens.mayUseRoom(userId, room), roomIds: () => tokens.roomIds(userId) };
    }
    if (!keyDigest) throw new HttpError('UNAVAILABLE', 'the command API is off: the server has no API_KEY set (per-user API tokens still work)');
    if (!given) throw new HttpError('UNAUTHORIZED', 'an API key is required: ?api_key=KEY or Authorization: Bearer KEY', challenge);
    // Equal-length digests, compared in constant time: neither the key nor its length leaks.
    if (!crypto.timingSafeEqual(sha256(given), keyDigest)) throw new HttpError('UNAUTHORIZED', 'wrong API key', challenge);
    return API_KEY_PRINCIPAL;
  };
}

function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}
