import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { TandemError } from '../../lib/shared/errors';
import {
  CLIENT_EVENTS,
  MAX_SOCKET_FRAME_BYTES,
  isClientEvent,
  parseClientEvent,
  type ClientEvent,
  type ClientPayload,
  type ControlEvent,
  type Handshake,
} from '../../lib/shared/protocol';
import { EventEmitter } from 'node:events';
import { RoomRelay, type RelayHooks, type RelayTransport } from './RoomRelay';
import { handshakeMiddleware, memberInfo, quotaMiddleware, type HandshakeOptions, type TandemServer, type TandemSocket } from './relayHandshake';

/**
 * What the relay tells the recordings (server/recordings/Recorder.ts implements it): the stream
 * through RelayHooks (record, restore, since), and here what only the socket layer knows: who
 * typed, resizes, terminals opened and closed, people arriving and leaving, which page hosts.
 */
export interface RelayRecorder extends Required<Pick<RelayHooks, 'restore' | 'since'>> {
  output(roomId: string, tab: string, seq: number, hostSeq: number, data: string, time: number): void;
  resize(roomId: string, tab: string, cols: number, rows: number): void;
  input(roomId: string, tab: string, data: string, by: { memberId: string; name: string }): void;
  mark(roomId: string, kind: 'join' | 'leave', label: string): void;
  tabOpened(roomId: string, tab: string, title: string): void;
  tabClosed(roomId: string, tab: string): void;
  hostChanged(roomId: string, clientId: string | null): void;
}

/** Keep an empty room's mirror this long, so a host that reloads finds guests' screens intact. */
export const EMPTY_ROOM_TTL_MS = 10 * 60 * 1000;
/**
 * Terminal mirrors of all rooms together. Past it, rooms nobody is in give theirs up at once
 * (longest empty first) instead of after EMPTY_ROOM_TTL_MS: a burst of hosted-then-left rooms
 * cannot hold the server's memory.
 */
export const DEFAULT_MAX_MIRROR_BYTES_TOTAL = 256 * 1024 * 1024;

/** Hub-wide events: 'output' (roomId, tab, data), 'host' (roomId, connected), 'closed' (roomId). */
export interface RelayEvents {
  output: [roomId: string, tab: string, data: string];
  host: [roomId: string, connected: boolean];
  /** The room's relay was reaped (empty for EMPTY_ROOM_TTL_MS): per-room state elsewhere goes with it. */
  closed: [roomId: string];
}

export interface RelayHub {
  io: TandemServer;
  events: EventEmitter<RelayEvents>;
  relays: Map<string, RoomRelay>;
  relay(roomId: string): RoomRelay | undefined;
  /** Cuts every connection whose authenticated principal `match` picks (e.g. a session that signed out). */
  disconnectWhere(match: (principal: unknown) => boolean, error: { code: TandemError['code']; message: string }): number;
  close(): Promise<void>;
}

/** Socket.IO adapter around RoomRelay: authenticates the handshake, then forwards each event. */
export function attachRelay(
  http: HttpServer,
  opts: HandshakeOptions & {
    /** Cap on all rooms' mirrors (default DEFAULT_MAX_MIRROR_BYTES_TOTAL). */
    maxMirrorBytes?: number;
    recorder?: RelayRecorder;
  },
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
  const rec = opts.recorder;
  /** A recording that fails (disk full…) must not take the room down: log it and go on. */
  const recording = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      opts.log.error({ err, what }, 'recording failed');
    }
  };
  const hooks: RelayHooks = {
    onOutput: (roomId: string, tab: string, data: string) => events.emit('output', roomId, tab, data),
    onHostChange: (roomId: string, connected: boolean) => {
      events.emit('host', roomId, connected);
      // Which page hosts, for a restart (a seat handed on by the relay itself included).
      const host = relays.get(roomId)?.hostClientId;
      if (rec && connected && host) recording('host', () => rec.hostChanged(roomId, host));
    },
    ...(rec && {
      record: (roomId, tab, seq, hostSeq, data, time) => recording('output', () => rec.output(roomId, tab, seq, hostSeq, data, time)),
      resized: (roomId, tab, cols, rows) => recording('resize', () => rec.resize(roomId, tab, cols, rows)),
      restore: (roomId) => {
        try {
          return rec.restore(roomId);
        } catch (err) {
          opts.log.error({ err, room: roomId }, 'could not restore the room from its recording');
          return null;
        }
      },
      since: (roomId, tab, seq) => rec.since(roomId, tab, seq),
    }),
  };
  /** Rooms nobody is in, in the order they emptied, each with the timer that will close it. */
  const reapers = new Map<string, ReturnType<typeof setTimeout>>();
  const maxMirrorBytes = opts.maxMirrorBytes ?? DEFAULT_MAX_MIRROR_BYTES_TOTAL;
  const closeEmpty = (room: string) => {
    clearTimeout(reapers.get(room));
    reapers.delete(room);
    const r = relays.get(room);
    if (r && r.size === 0) {
      r.close();
      relays.delete(room);
      events.emit('closed', room);
    }
  };
  /** Over the total: empty rooms go now, longest empty first. Live rooms are bounded per room. */
  const trimMirrors = () => {
    let total = 0;
    for (const r of relays.values()) total += r.mirrorBytes;
    for (const room of reapers.keys()) {
      if (total <= maxMirrorBytes) return;
      total -= relays.get(room)?.mirrorBytes ?? 0;
      closeEmpty(room);
      opts.log.info({ room }, 'empty room closed early: terminal mirrors over their total');
    }
  };
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

  const handshakes = new WeakMap<TandemSocket, Handshake>();
  io.use(quotaMiddleware(opts));
  io.use(handshakeMiddleware(opts, handshakes));

  /** Sockets of a room whose member id is in `ids` ('*': all but the server's headless host). */
  const socketsOf = (room: string, ids: readonly string[]): TandemSocket[] => {
    const out: TandemSocket[] = [];
    for (const s of io.sockets.sockets.values())
      if (s.data.room === room && (ids.includes(s.data.access.memberId) || (ids.includes('*') && !s.data.headless))) out.push(s);
    return out;
  };
  opts.gate?.events.on('changed', (room, memberId) => {
    for (const s of socketsOf(room, [memberId])) {
      const hs = handshakes.get(s);
      const access = hs && opts.gate!.recheck(room, s.data.principal, hs);
      if (!access) {
        s.emit('room:error', { code: 'FORBIDDEN', message: 'you no longer have access to this room' });
        s.disconnect(true);
        continue;
      }
      s.data.access = access;
      s.data.wantHost = hs.wantHost && access.canHost;
      relays.get(room)?.updatePeer(s.id, { me: memberInfo(access), wantHost: s.data.wantHost });
    }
  });
  opts.gate?.events.on('removed', (room, memberIds) => {
    for (const s of socketsOf(room, memberIds)) {
      s.emit('room:error', { code: 'FORBIDDEN', message: 'your access to this room was removed' });
      s.disconnect(true);
    }
    // A room deleted or archived keeps nothing for a returning host: its mirrors and timers go now.
    if (memberIds.includes('*') && relays.get(room)?.size === 0) closeEmpty(room);
  });

  io.on('connection', (socket: TandemSocket) => {
    const { room } = socket.data;
    let relay = relays.get(room);
    clearTimeout(reapers.get(room));
    reapers.delete(room);
    if (!relay) {
      relays.set(room, (relay = new RoomRelay(room, transportFor(room), hooks)));
      trimMirrors();
    }
    const r = relay;
    const { clientId, wantHost, name, headless } = socket.data;
    const resume = handshakes.get(socket)?.resume;
    const seat = r.handleConnect({ id: socket.id, clientId, wantHost, name, headless, me: memberInfo(socket.data.access), resume });
    opts.log.debug({ room, sid: socket.id, seat }, 'peer joined');
    const who = { memberId: socket.data.access.memberId, name: name ?? socket.data.access.name };
    if (rec) {
      // Reconnects after a blip are not news; a first arrival is.
      if (!resume) recording('join', () => rec.mark(room, 'join', `${who.name} joined${seat === 'host' ? ' (hosting)' : ''}`));
    }

    /** Keystrokes (terminal or screen) are judged by the sender's access now (a demoted guest's next key is refused). */
    const typing = () => {
      if (opts.gate && !socket.data.headless && !opts.gate.mayType(room, socket.data.access))
        throw new TandemError('FORBIDDEN', socket.data.access.canType ? 'someone else holds the keyboard: raise your hand' : 'you are a viewer here: you cannot type');
    };
    const control = <E extends ControlEvent>(event: E, msg: ClientPayload<E>) => {
      if (!opts.gate) throw new TandemError('UNAVAILABLE', 'keyboard control needs accounts');
      opts.gate.control(room, socket.data.access, event, msg);
    };
    /** What the recording keeps of an event the relay accepted. */
    const record = (what: string, fn: (rec: RelayRecorder) => void) => rec && recording(what, () => fn(rec));
    /** Every event a client may send → what it does; dispatch() validates the payload against its schema first. */
    const handlers: { [E in ClientEvent]: (msg: ClientPayload<E>) => void } = {
      'term:out': (m) => r.handle(socket.id, 'term:out', m),
      'term:in': (m) => {
        typing();
        r.handle(socket.id, 'term:in', m);
        record('term:in', (rec) => rec.input(room, m.tab, m.data, who));
      },
      // These two may grow the room's mirrors: the total is checked after them. Resizes are recorded
      // by the relay as it applies them (RelayHooks.resized), after the output before them.
      'term:resize': (m) => (r.handle(socket.id, 'term:resize', m), trimMirrors()),
      'tab:open': (m) => {
        r.handle(socket.id, 'tab:open', m);
        record('tab:open', (rec) => rec.tabOpened(room, m.tab, m.title));
        trimMirrors();
      },
      'tab:close': (m) => {
        r.handle(socket.id, 'tab:close', m);
        record('tab:close', (rec) => rec.tabClosed(room, m.tab));
      },
      'term:sync': (m) => r.handle(socket.id, 'term:sync', m),
      'host:status': (m) => r.handle(socket.id, 'host:status', m),
      'screen:frame': (m) => r.handle(socket.id, 'screen:frame', m),
      'screen:input': (m) => (typing(), r.handle(socket.id, 'screen:input', m)),
      // Handing the VM over: the relay checks who may take or give it.
      'host:take': (m) => r.handle(socket.id, 'host:take', m),
      'host:give': (m) => r.handle(socket.id, 'host:give', m),
      'control:mode': (m) => control('control:mode', m),
      'control:grant': (m) => control('control:grant', m),
      'control:take': (m) => control('control:take', m),
      'control:request': (m) => control('control:request', m),
      'control:lower': (m) => control('control:lower', m),
      'control:release': (m) => control('control:release', m),
    };
    /** The one place an inbound payload is validated; anything refused goes back as room:error with its code. */
    const dispatch = <E extends ClientEvent>(event: E, payload: unknown) => {
      try {
        handlers[event](parseClientEvent(event, payload));
      } catch (e) {
        const code = e instanceof TandemError ? e.code : 'INTERNAL';
        if (code === 'INTERNAL') opts.log.error({ err: e, room, event }, 'relay failed');
        socket.emit('room:error', { code, message: e instanceof Error ? e.message : String(e), event });
      }
    };
    for (const event of CLIENT_EVENTS) socket.on(event, (payload: unknown) => dispatch(event, payload));
    socket.onAny((event: string) => {
      if (!isClientEvent(event)) socket.emit('room:error', { code: 'BAD_MESSAGE', message: `unknown event ${event}`, event });
    });
    socket.on('disconnect', (reason) => {
      r.handleClose(socket.id);
      // A page that leaves for good (not a server shutdown) ends its host seat and says goodbye.
      if (rec && reason !== 'server shutting down')
        recording('leave', () => {
          if (seat === 'host' && !r.hasHost) rec.hostChanged(room, null);
          rec.mark(room, 'leave', `${who.name} left`);
        });
      if (r.size === 0 && relays.get(room) === r) {
        clearTimeout(reapers.get(room));
        reapers.set(room, setTimeout(() => closeEmpty(room), EMPTY_ROOM_TTL_MS).unref());
        trimMirrors();
      }
    });
  });

  return {
    io,
    events,
    relays,
    relay: (id) => relays.get(id),
    disconnectWhere: (match, error) => {
      let n = 0;
      for (const s of [...io.sockets.sockets.values()]) {
        if (s.data.headless || !match(s.data.principal)) continue;
        s.emit('room:error', error);
        s.disconnect(true);
        n++;
      }
      return n;
    },
    close: async () => {
      for (const t of reapers.values()) clearTimeout(t);
      for (const r of relays.values()) r.close();
      relays.clear();
      await io.close();
    },
  };
}

/** Bytes queued for a socket: engine.io's buffer plus the websocket's unsent bytes. */
export function pendingBytes(socket: TandemSocket | undefined): number {
  if (!socket) return 0;
  const conn = socket.conn as unknown as {
    writeBuffer?: { data?: unknown }[];
    transport?: { socket?: { bufferedAmount?: number } };
  };
  let n = conn.transport?.socket?.bufferedAmount ?? 0;
  for (const p of conn.writeBuffer ?? []) n += typeof p.data === 'string' ? p.data.length : 256;
  return n;
}
