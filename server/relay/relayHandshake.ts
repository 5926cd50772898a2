import type { IncomingMessage } from 'node:http';
import type { EventEmitter } from 'node:events';
import type { Server, Socket } from 'socket.io';
import type { Logger } from 'pino';
import { TandemError } from '../../lib/shared/errors';
import {
  PROTOCOL_VERSION,
  ROOM_ID_RE,
  handshakeSchema,
  type ClientPayload,
  type ClientToServerEvents,
  type ControlEvent,
  type Handshake,
  type MemberInfo,
  type ServerToClientEvents,
} from '../../lib/shared/protocol';
import type { Access } from '../access/RoomAccess';
import type { SocketQuota } from '../access/SocketQuota';

/**
 * Who a relay connection is, decided once at its handshake: the connection quota per address, the
 * Origin, the protocol version, the room, and the access the host token or the access layer grants.
 * attachRelay.ts installs these as Socket.IO middleware and reads the result from `socket.data`.
 */

export interface SocketData {
  room: string;
  clientId: string;
  wantHost: boolean;
  name?: string;
  headless: boolean;
  access: Access;
  /** Whom the handshake authenticated, to decide again when roles change. */
  principal: unknown;
}

export type TandemServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type TandemSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/**
 * What the relay asks the access layer (server/access/): who a connection is, whether they may
 * type, and the keyboard-control requests. Without a gate every connection may do everything
 * (a bare relay, as the benchmarks' floor uses).
 */
export interface RelayGate {
  /** Decides a handshake; throws TandemError (UNAUTHORIZED, FORBIDDEN, ROOM_NOT_FOUND). */
  authenticate(req: { headers: Record<string, string | string[] | undefined> }, hs: Handshake): Promise<{ access: Access; principal: unknown }>;
  /** The same decision again for a live connection; null: it lost access. */
  recheck(room: string, principal: unknown, hs: Handshake): Access | null;
  mayType(room: string, access: Access): boolean;
  /** A keyboard-control request, its payload validated; throws TandemError when refused. */
  control<E extends ControlEvent>(room: string, access: Access, event: E, msg: ClientPayload<E>): void;
  /** Membership role changes ('changed') and lost access ('removed', with '*' for everyone). */
  events: EventEmitter<{ changed: [string, string]; removed: [string, string[]] }>;
}

/** The server's own headless browser: it hosts and types commands, it manages nothing. */
export const HEADLESS_ACCESS: Access = {
  memberId: 'h:headless',
  name: 'Tandem (headless host)',
  role: null,
  open: false,
  canType: true,
  canHost: true,
  canManage: false,
  canPushCommands: true,
};
const OPEN_ACCESS: Access = { ...HEADLESS_ACCESS, memberId: 'a:anonymous', name: 'Guest', open: true };

export function memberInfo(a: Access): MemberInfo {
  return { memberId: a.memberId, name: a.name, role: a.role, canType: a.canType, canHost: a.canHost, canManage: a.canManage };
}

function connectError(code: TandemError['code'], message: string): Error {
  const err = new Error(message) as Error & { data: unknown };
  err.data = { code, message };
  return err;
}

type Middleware = (socket: TandemSocket, next: (err?: Error) => void) => void;

/** What deciding a handshake needs (attachRelay's options include these). */
export interface HandshakeOptions {
  roomExists: (id: string) => boolean;
  verifyHostToken: (room: string, token: string) => boolean;
  log: Logger;
  gate?: RelayGate;
  /** Whether a browser page from this Origin may connect (server/http/security.ts); absent Origin is a non-browser client. */
  isAllowedOrigin?: (origin: string) => boolean;
  /** Live sockets per client address; past it a handshake is refused with QUOTA_EXCEEDED. */
  quota?: SocketQuota;
  /** The client's address for the quota (TRUST_PROXY); the handshake's peer when absent. */
  clientAddress?: (req: IncomingMessage) => string;
}

/** Live sockets per client address; past the quota a handshake is refused with QUOTA_EXCEEDED. */
export function quotaMiddleware(opts: Pick<HandshakeOptions, 'quota' | 'clientAddress'>): Middleware {
  return (socket, next) => {
    if (!opts.quota) return next();
    const release = opts.quota.acquire(opts.clientAddress ? opts.clientAddress(socket.request) : socket.handshake.address);
    if (!release) return next(connectError('QUOTA_EXCEEDED', `at most ${opts.quota.maxPerIp} connections per address`));
    // Given back when the transport closes: after a disconnect, or a handshake refused further on.
    socket.conn.once('close', release);
    next();
  };
}

/** Validates the handshake and decides the connection's access; `handshakes` keeps it for later rechecks. */
export function handshakeMiddleware(opts: HandshakeOptions, handshakes: WeakMap<TandemSocket, Handshake>): Middleware {
  return async (socket, next) => {
    const origin = socket.handshake.headers.origin;
    if (origin !== undefined && opts.isAllowedOrigin && !opts.isAllowedOrigin(origin))
      return next(connectError('FORBIDDEN', `connections from ${origin} are not allowed`));
    const parsed = handshakeSchema.safeParse(socket.handshake.auth);
    if (!parsed.success) return next(connectError('BAD_MESSAGE', 'handshake needs {v, room, clientId}'));
    const hs = parsed.data;
    if (hs.v !== PROTOCOL_VERSION)
      return next(connectError('PROTOCOL_MISMATCH', `server speaks protocol ${PROTOCOL_VERSION}, client ${hs.v}; reload the page`));
    if (!ROOM_ID_RE.test(hs.room)) return next(connectError('BAD_ROOM_ID', 'room ids are lowercase letters, digits and dashes'));
    if (!opts.roomExists(hs.room)) return next(connectError('ROOM_NOT_FOUND', `no room ${hs.room}`));
    let access = OPEN_ACCESS;
    let principal: unknown = null;
    if (hs.hostToken !== undefined) {
      if (!opts.verifyHostToken(hs.room, hs.hostToken)) return next(connectError('UNAUTHORIZED', 'host token is invalid or expired'));
      access = HEADLESS_ACCESS;
    } else if (opts.gate) {
      try {
        ({ access, principal } = await opts.gate.authenticate(socket.handshake, hs));
      } catch (e) {
        if (e instanceof TandemError) return next(connectError(e.code, e.message));
        opts.log.error({ err: e, room: hs.room }, 'authentication failed');
        return next(connectError('INTERNAL', 'could not check your access; try again'));
      }
    }
    handshakes.set(socket, hs);
    socket.data = {
      room: hs.room,
      clientId: hs.clientId,
      wantHost: hs.wantHost && access.canHost,
      name: access === OPEN_ACCESS ? hs.name : access.name,
      headless: hs.hostToken !== undefined,
      access,
      principal,
    };
    next();
  };
}
