import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { TandemError } from '../../lib/errors';
import {
  MAX_SOCKET_FRAME_BYTES,
  PROTOCOL_VERSION,
  ROOM_ID_RE,
  handshakeSchema,
  inboundSchemas,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '../../lib/protocol';
import type { Logger } from 'pino';
import { EventEmitter } from 'node:events';
import { RoomRelay, type RelayTransport } from './RoomRelay';

interface SocketData {
  room: string;
  clientId: string;
  wantHost: boolean;
  name?: string;
  headless: boolean;
}
type TandemServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type TandemSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Keep an empty room's mirror this long, so a host that reloads finds guests' screens intact. */
export const EMPTY_ROOM_TTL_MS = 10 * 60 * 1000;

/** Hub-wide stream events: 'output' (roomId, tab, data) and 'host' (roomId, connected). */
export interface RelayEvents {
  output: [roomId: string, tab: string, data: string];
  host: [roomId: string, connected: boolean];
}

export interface RelayHub {
  io: TandemServer;
  events: EventEmitter<RelayEvents>;
  relays: Map<string, RoomRelay>;
  relay(roomId: string): RoomRelay | undefined;
  close(): Promise<void>;
}

function connectError(code: TandemError['code'], message: string): Error {
  const err = new Error(message) as Error & { data: unknown };
  err.data = { code, message };
  return err;
}

/** Socket.IO adapter around RoomRelay: authenticates the handshake, then forwards each event. */
export function attachRelay(
  http: HttpServer,
  opts: { roomExists: (id: string) => boolean; verifyHostToken: (room: string, token: string) => boolean; log: Logger },
): RelayHub {
  const io: TandemServer = new Server(http, {
    path: '/socket.io',
    destroyUpgrade: false,
    maxHttpBufferSize: MAX_SOCKET_FRAME_BYTES,
    perMessageDeflate: false,
    serveClient: false,
  });
  const relays = new Map<string, RoomRelay>();
  const events = new EventEmitter<RelayEvents>();
  events.setMaxListeners(0);
  const hooks = {
    onOutput: (roomId: string, tab: string, data: string) => events.emit('output', roomId, tab, data),
    onHostChange: (roomId: string, connected: boolean) => events.emit('host', roomId, connected),
  };
  const reapers = new Map<string, ReturnType<typeof setTimeout>>();
  const guestGroup = (room: string) => `g:${room}`;

  const transportFor = (room: string): RelayTransport => ({
    send: (peerId, event, ...args) => {
      io.sockets.sockets.get(peerId)?.emit(event, ...args);
    },
    broadcastGuests: (except, event, ...args) => {
      (except.length ? io.to(guestGroup(room)).except(except as string[]) : io.to(guestGroup(room))).emit(event, ...args);
    },
    pendingBytes: (peerId) => pendingBytes(io.sockets.sockets.get(peerId)),
    disconnect: (peerId) => {
      io.sockets.sockets.get(peerId)?.disconnect(true);
    },
    setGuest: (peerId, isGuest) => {
      const s = io.sockets.sockets.get(peerId);
      if (!s) return;
      if (isGuest) s.join(guestGroup(room));
      else s.leave(guestGroup(room));
    },
  });

  io.use((socket, next) => {
    const parsed = handshakeSchema.safeParse(socket.handshake.auth);
    if (!parsed.success) return next(connectError('BAD_MESSAGE', 'handshake needs {v, room, clientId}'));
    const hs = parsed.data;
    if (hs.v !== PROTOCOL_VERSION)
      return next(connectError('PROTOCOL_MISMATCH', `server speaks protocol ${PROTOCOL_VERSION}, client ${hs.v}; reload the page`));
    if (!ROOM_ID_RE.test(hs.room)) return next(connectError('BAD_ROOM_ID', 'room ids are lowercase letters, digits and dashes'));
    if (!opts.roomExists(hs.room)) return next(connectError('ROOM_NOT_FOUND', `no room ${hs.room}`));
    if (hs.hostToken !== undefined && !opts.verifyHostToken(hs.room, hs.hostToken))
      return next(connectError('UNAUTHORIZED', 'host token is invalid or expired'));
    socket.data = { room: hs.room, clientId: hs.clientId, wantHost: hs.wantHost, name: hs.name, headless: hs.hostToken !== undefined };
    next();
  });

  io.on('connection', (socket: TandemSocket) => {
    const { room } = socket.data;
    let relay = relays.get(room);
    if (!relay) relays.set(room, (relay = new RoomRelay(room, transportFor(room), hooks)));
    clearTimeout(reapers.get(room));
    reapers.delete(room);
    const r = relay;
    const { clientId, wantHost, name, headless } = socket.data;
    const role = r.handleConnect({ id: socket.id, clientId, wantHost, name, headless });
    opts.log.debug({ room, sid: socket.id, role }, 'peer joined');

    for (const event of Object.keys(inboundSchemas)) {
      socket.on(event as keyof ClientToServerEvents, (payload: unknown) => {
        try {
          r.handleMessage(socket.id, event, payload);
        } catch (e) {
          const code = e instanceof TandemError ? e.code : 'INTERNAL';
          const message = e instanceof Error ? e.message : String(e);
          if (code === 'INTERNAL') opts.log.error({ err: e, room, event }, 'relay failed');
          socket.emit('room:error', { code, message, event });
        }
      });
    }
    socket.onAny((event: string) => {
      if (!(event in inboundSchemas)) socket.emit('room:error', { code: 'BAD_MESSAGE', message: `unknown event ${event}`, event });
    });
    socket.on('disconnect', () => {
      r.handleClose(socket.id);
      if (r.size === 0) {
        reapers.set(
          room,
          setTimeout(() => {
            if (r.size === 0) {
              r.close();
              relays.delete(room);
            }
            reapers.delete(room);
          }, EMPTY_ROOM_TTL_MS).unref(),
        );
      }
    });
  });

  return {
    io,
    events,
    relays,
    relay: (id) => relays.get(id),
    close: async () => {
      for (const t of reapers.values()) clearTimeout(t);
      for (const r of relays.values()) r.close();
      relays.clear();
      await io.close();
    },
  };
}

/** Bytes queued for a socket: engine.io's buffer plus the websocket's unsent bytes. */
function pendingBytes(socket: TandemSocket | undefined): number {
  if (!socket) return 0;
  const conn = socket.conn as unknown as {
    writeBuffer?: { data?: unknown }[];
    transport?: { socket?: { bufferedAmount?: number } };
  };
  let n = conn.transport?.socket?.bufferedAmount ?? 0;
  for (const p of conn.writeBuffer ?? []) n += typeof p.data === 'string' ? p.data.length : 256;
  return n;
}
