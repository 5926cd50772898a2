import crypto from 'node:crypto';
import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { signToken, verifyToken } from '../auth/signedToken';
import { refuseUpgrade } from '../http/refuseUpgrade';
import { RateLimiter } from '../accounts/RateLimiter';
import { ROOM_ID_RE } from '../../lib/shared/protocol';
import { parseAddress, type NetPolicy } from './NetPolicy';
import type { AddressLookup } from './DohResolver';
import type { NetAudit, NetRefusal } from './NetAudit';
import { ByteBucket } from './ByteBucket';
import { CLOSE_REASON } from './wispFrames';
import { WispSession } from './WispSession';

/** The VM's network card keeps its URL for the page's life; v86 reconnects with it after drops. */
export const NET_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
/** Largest Wisp frame: a 9000-byte MTU packet plus headers, with room to spare. */
export const MAX_WISP_FRAME_BYTES = 64 * 1024;

export interface NetLimits {
  maxStreamsPerRoom: number;
  connectsPerMinute: number;
  bytesPerSecond: number;
  idleTimeoutMs: number;
  maxStreamsServer: number;
  /** Wisp connections per room (one per VM: a host may run a VM per terminal tab). */
  maxSessionsPerRoom: number;
}

export const DEFAULT_NET_LIMITS: NetLimits = {
  maxStreamsPerRoom: 64,
  // A page load opens dozens of connections; a scan opens thousands.
  connectsPerMinute: 300,
  bytesPerSecond: 16 * 1024 * 1024,
  idleTimeoutMs: 10 * 60_000,
  maxStreamsServer: 2048,
  maxSessionsPerRoom: 8,
};

export interface HostSeat {
  clientId: string;
  memberId: string;
}

export interface NetHubOptions {
  secret: string;
  policy: NetPolicy;
  /** Resolves names in CONNECTs from other Wisp clients (v86 always sends an IP). */
  lookup: AddressLookup;
  /** The name our DNS answered for an address, for the audit. */
  nameOf(ip: string): string | null;
  audit: NetAudit;
  limits?: Partial<NetLimits>;
  /** Whether the room's VM may reach the network now (its switch, NET, who hosts). */
  allowed(room: string): boolean;
  /** Who holds the room's host seat now. */
  seat(room: string): HostSeat | null;
  log: Logger;
  /** Dials a checked destination (tests may point it elsewhere only at the boundary). */
  dial?: (ip: string, port: number, family: 4 | 6) => net.Socket;
}

interface RoomNet {
  sessions: Set<{ session: WispSession; ws: WebSocket; clientHash: string }>;
  streams: number;
  bucket: ByteBucket;
  counters: Record<string, number>;
}

const clientHash = (clientId: string) => crypto.createHash('sha256').update(clientId).digest('base64url').slice(0, 22);

/**
 * The VMs' network on the server: Wisp over WebSocket at `/net/<token>/`, one session per VM,
 * every CONNECT through the policy, per-room and server-wide caps, an audit row per connection.
 * Tokens are signed for a room and the browser tab holding its host seat; the seat is checked
 * again at every upgrade and whenever the seat or the room's switch changes.
 */
export class NetHub {
  private wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WISP_FRAME_BYTES, perMessageDeflate: false });
  private rooms = new Map<string, RoomNet>();
  private connects: RateLimiter;
  private streams = 0;
  private limits: NetLimits;
  readonly counters = { protocolErrors: 0, refusedUpgrades: 0 };

  constructor(private opts: NetHubOptions) {
    this.limits = { ...DEFAULT_NET_LIMITS, ...opts.limits };
    this.connects = new RateLimiter({ points: this.limits.connectsPerMinute, windowMs: 60_000 });
  }

  /** The relay URL path for the room's current host (the page turns it into wisp(s)://). */
  issueToken(room: string, clientId: string, now = Date.now()): string {
    return signToken(this.opts.secret, 'net', [room, clientHash(clientId)], now + NET_TOKEN_TTL_MS);
  }

  /** The room a network token is valid for (signature and expiry; not the seat). */
  roomOfToken(token: string): string | null {
    const fields = verifyToken(this.opts.secret, 'net', token, 2);
    return fields && ROOM_ID_RE.test(fields[0]) ? fields[0] : null;
  }

  /**
   * The room and host of a network token whose seat is still held by the tab it was issued to
   * (a CheerpX host's page calls the gateway with it); null otherwise.
   */
  seatOfToken(token: string): { room: string; memberId: string } | null {
    const fields = verifyToken(this.opts.secret, 'net', token, 2);
    if (!fields || !ROOM_ID_RE.test(fields[0])) return null;
    const seat = this.opts.seat(fields[0]);
    return seat && clientHash(seat.clientId) === fields[1] ? { room: fields[0], memberId: seat.memberId } : null;
  }

  /** Takes `/net/<token>/` upgrades; false for any other path. Answers synchronously or refuses. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/net\/([^/]+)\/?$/.exec(url.pathname);
    if (!url.pathname.startsWith('/net/')) return false;
    socket.on('error', () => socket.destroy());
    const fields = m ? verifyToken(this.opts.secret, 'net', decodeURIComponent(m[1]), 2) : null;
    if (!fields || !ROOM_ID_RE.test(fields[0])) return this.refuse(socket, 'UNAUTHORIZED', 'network token is invalid or expired; reload the page');
    const [room, hash] = fields;
    const seat = this.opts.seat(room);
    if (!seat || clientHash(seat.clientId) !== hash) return this.refuse(socket, 'FORBIDDEN', "only the room's current host opens its VM's network");
    const r = this.room(room);
    if (r.sessions.size >= this.limits.maxSessionsPerRoom) return this.refuse(socket, 'RATE_LIMITED', 'too many network connections for this room');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connect(ws, room, hash, seat.memberId));
    return true;
  }

  /** Re-decides a room's live sessions: a host that lost its seat is cut off; a switch turned off cuts every stream. */
  refresh(room: string): void {
    const r = this.rooms.get(room);
    if (!r) return;
    const seat = this.opts.seat(room);
    const allowed = this.opts.allowed(room);
    for (const s of [...r.sessions]) {
      if (!seat || clientHash(seat.clientId) !== s.clientHash) {
        s.ws.close(4403, 'host seat changed');
        s.session.close();
      } else if (!allowed) s.session.cutStreams(CLOSE_REASON.BLOCKED);
    }
  }

  /** Live figures for the room's panel. */
  roomStats(room: string): { sessions: number; openStreams: number; counters: Record<string, number> } {
    const r = this.rooms.get(room);
    return { sessions: r?.sessions.size ?? 0, openStreams: r?.streams ?? 0, counters: { ...(r?.counters ?? {}) } };
  }

  close(): void {
    for (const r of this.rooms.values())
      for (const s of r.sessions) {
        s.session.close();
        s.ws.terminate();
      }
    this.rooms.clear();
    this.wss.close();
  }

  private refuse(socket: Duplex, code: 'UNAUTHORIZED' | 'FORBIDDEN' | 'RATE_LIMITED', message: string): true {
    this.counters.refusedUpgrades++;
    refuseUpgrade(socket, code, message);
    return true;
  }

  private room(id: string): RoomNet {
    let r = this.rooms.get(id);
    if (!r) this.rooms.set(id, (r = { sessions: new Set(), streams: 0, bucket: new ByteBucket(this.limits.bytesPerSecond), counters: {} }));
    return r;
  }

  private count(r: RoomNet, key: string): void {
    r.counters[key] = (r.counters[key] ?? 0) + 1;
  }

  private connect(ws: WebSocket, room: string, hash: string, host: string): void {
    const r = this.room(room);
    const log = this.opts.log.child({ room });
    const session = new WispSession({
      room,
      send: (frame, done) => {
        if (ws.readyState !== ws.OPEN) return;
        ws.send(frame, (err) => {
          if (err) ws.terminate();
          done?.();
        });
      },
      bufferedBytes: () => ws.bufferedAmount,
      terminate: (code, reason) => ws.close(code, reason),
      admit: () => this.admit(r, room),
      release: () => {
        r.streams--;
        this.streams--;
      },
      resolve: (hostname, port) => this.resolve(room, hostname, port),
      dial: this.opts.dial ?? ((ip, port, family) => net.connect({ host: ip, port, family })),
      meter: (bytes) => r.bucket.take(bytes),
      audit: (row) => {
        this.count(r, row.refused ? `refused_${row.refused}` : 'connections');
        // A flood of throttled CONNECTs is one row a minute, not one row each.
        if (row.refused === 'throttled' && (r.counters.refused_throttled ?? 0) > 1 && Date.now() - (r.counters.lastThrottleRow ?? 0) < 60_000) return;
        if (row.refused === 'throttled') r.counters.lastThrottleRow = Date.now();
        try {
          this.opts.audit.record({ room, host, kind: 'wisp', ...row, startedAt: new Date(row.startedAt) });
        } catch (err) {
          log.error({ err }, 'net audit write failed');
        }
      },
      countProtocolError: () => {
        this.counters.protocolErrors++;
        this.count(r, 'protocol_errors');
      },
      idleTimeoutMs: this.limits.idleTimeoutMs,
      log,
    });
    const entry = { session, ws, clientHash: hash };
    r.sessions.add(entry);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return session.handleMessage(Buffer.alloc(0)); // text frames are not Wisp: a protocol error
      session.handleMessage(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
    });
    ws.on('error', (err) => log.debug({ err: String(err) }, 'wisp socket error'));
    ws.on('close', () => {
      session.close();
      r.sessions.delete(entry);
      if (!r.sessions.size && !r.streams) this.rooms.delete(room);
    });
    log.debug({ host }, 'wisp session opened');
  }

  private admit(r: RoomNet, room: string): NetRefusal | null {
    if (!this.opts.allowed(room)) return 'internet_off';
    if (this.streams >= this.limits.maxStreamsServer) return 'server_streams';
    if (r.streams >= this.limits.maxStreamsPerRoom) return 'room_streams';
    if (!this.connects.consume(room).ok) return 'throttled';
    r.streams++;
    this.streams++;
    return null;
  }

  private async resolve(
    room: string,
    hostname: string,
    port: number,
  ): Promise<{ ok: true; ip: string; family: 4 | 6; name: string | null } | { ok: false; reason: NetRefusal; ip?: string }> {
    const literal = parseAddress(hostname) !== null;
    const candidates = literal
      ? [hostname]
      : [...(await this.opts.lookup(hostname, 4)), ...(await this.opts.lookup(hostname, 6))].map((a) => a.address);
    if (!candidates.length) return { ok: false, reason: 'unresolved' };
    let first: { reason: NetRefusal; ip?: string } | null = null;
    for (const c of candidates) {
      const v = this.opts.policy.check(c, port);
      // The switch may have turned off while DNS ran.
      if (v.ok) return this.opts.allowed(room) ? { ok: true, ip: v.ip, family: v.family, name: literal ? this.opts.nameOf(v.ip) : hostname } : { ok: false, reason: 'internet_off' };
      first ??= { reason: v.reason, ip: v.ip };
    }
    return { ok: false, ...first! };
  }
}
