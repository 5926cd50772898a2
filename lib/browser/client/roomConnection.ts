import type { Socket } from 'socket.io-client';
import {
  DEFAULT_TAB,
  FATAL_CONNECT_CODES,
  PROTOCOL_VERSION,
  type ClientToServerEvents,
  type ProtocolErrorPayload,
  type ServerToClientEvents,
} from '../../shared/protocol';
import type { BootProgress } from '../vm/Engine';
import { clientId } from './pageIdentity';

export type RoomSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type Conn = 'connecting' | 'connected' | 'reconnecting';

export interface RoomConnectionOptions {
  roomId: string;
  /** False joins as a guest even when nobody hosts (`?watch`). */
  wantHost: boolean;
  hostToken?: string;
  name?: string;
  /** This page's id in the room (default: one per browser tab). */
  clientId?: string;
  /** On each (re)connect: the last relay sequence number this page shows of each tab (a guest resumes from there). */
  resume?: () => Record<string, number> | undefined;
  onConn(conn: Conn): void;
  /**
   * The server refused the connection for good (unknown room, no access…); `lost` when it was
   * connected before, i.e. access was taken away rather than never given. null: connected again.
   */
  onFatal(err: ProtocolErrorPayload | null, lost: boolean): void;
}

export interface RoomConnection {
  socket: RoomSocket;
  /**
   * True once for the first room:state after each (re)connect: the moment a host tells the server
   * where its VMs stand again. Answering every state with a status would never stop, since the
   * server answers a changed status with a state.
   */
  takeFresh(): boolean;
}

export const RECONNECT_DELAY_MS = 300;
export const RECONNECT_DELAY_MAX_MS = 1000;

/**
 * One room's Socket.IO connection as both room pages use it: the handshake, connection status,
 * refusals that end it, and one retry after the server closed it (say, an invite was revoked: the
 * retry's handshake then says why, or the room simply resumes).
 */
export function connectRoom(io: typeof import('socket.io-client').io, o: RoomConnectionOptions): RoomConnection {
  const id = o.clientId ?? clientId();
  const socket: RoomSocket = io({
    path: '/socket.io',
    transports: ['websocket'],
    // A restarted server is found again within about a second of it being back.
    reconnectionDelay: RECONNECT_DELAY_MS,
    reconnectionDelayMax: RECONNECT_DELAY_MAX_MS,
    // A function: every reconnect sends where this page's terminals stand now.
    auth: (cb) => cb({ v: PROTOCOL_VERSION, room: o.roomId, clientId: id, wantHost: o.wantHost, hostToken: o.hostToken, name: o.name, resume: o.resume?.() }),
  });
  let wasConnected = false;
  let fresh = false;
  socket.on('connect', () => {
    // The page's timeline says when the room was first reached (the boot bench reads it).
    if (!wasConnected) performance.mark?.('tandem:socket:connected');
    wasConnected = true;
    fresh = true;
    o.onConn('connected');
    o.onFatal(null, false);
  });
  socket.on('disconnect', (reason) => {
    o.onConn('reconnecting');
    // Socket.IO does not retry on its own after the server closed the connection.
    if (reason === 'io server disconnect') socket.connect();
  });
  socket.on('connect_error', (err) => {
    const data = (err as Error & { data?: ProtocolErrorPayload }).data;
    if (data && FATAL_CONNECT_CODES.has(data.code)) {
      o.onFatal(data, wasConnected);
      socket.disconnect();
    } else o.onConn('reconnecting');
  });
  return {
    socket,
    takeFresh: () => {
      const f = fresh;
      fresh = false;
      return f;
    },
  };
}

/** How often a booting VM's progress is reported at most; other phases are sent at once. */
export const STATUS_EVERY_MS = 250;

/** The host's boot status for the server (the command queue waits on it), throttled while booting. */
export class StatusReporter {
  private last: BootProgress | null = null;
  private lastSent = 0;

  constructor(
    private emit: (status: BootProgress & { tab: string }) => void,
    private now: () => number = Date.now,
  ) {}

  send(p: BootProgress, force = false): void {
    this.last = p;
    const t = this.now();
    if (!force && p.phase === 'booting' && t - this.lastSent < STATUS_EVERY_MS) return;
    this.lastSent = t;
    this.emit({ tab: DEFAULT_TAB, ...p });
  }

  /** The last status again (after a reconnect); false when there is none yet. */
  resend(): boolean {
    if (!this.last) return false;
    this.send(this.last, true);
    return true;
  }
}
