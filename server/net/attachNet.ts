import os from 'node:os';
import type http from 'node:http';
import type { Logger } from 'pino';
import type { Env } from '../env';
import type { Db } from '../db';
import type { RoomStore } from '../rooms/RoomStore';
import type { RelayHub } from '../relay/attachRelay';
import { NetPolicy, parseAddress, parseRules } from './NetPolicy';
import { DohResolver, hostsLookup, parseHosts, systemLookup, type AddressLookup } from './DohResolver';
import { NetAudit } from './NetAudit';
import { NetHub, type NetLimits } from './NetHub';
import { createNetHandler, type InternetState } from './netRoutes';
import { Gateway } from './Gateway';
import type { ClientAddressOf } from '../http/clientAddress';

/** How often old audit rows are pruned. */
const AUDIT_PRUNE_MS = 60 * 60_000;

export type NetEnv = Pick<Env, 'NET' | 'NET_ALLOW' | 'NET_DENY' | 'NET_HOSTS' | 'NET_RESOLVER' | 'NET_AUDIT_DAYS'>;

export interface NetDeps {
  env: NetEnv;
  db: Db;
  secret: string;
  server: http.Server;
  rooms: RoomStore;
  relays: RelayHub;
  clientAddress: ClientAddressOf;
  requireAuditReader(req: http.IncomingMessage, url: URL, room: string): Promise<void>;
  authorizeGateway(req: http.IncomingMessage, url: URL, room: string): Promise<string>;
  log: Logger;
  limits?: Partial<NetLimits>;
}

/**
 * The VMs' network, wired: policy from NET_ALLOW / NET_DENY, DNS (NET_HOSTS, the system resolver),
 * the Wisp hub, the audit and its HTTP routes. Who may use it: `state(room)`.
 */
export function attachNet(d: NetDeps) {
  const boundPort = () => {
    const a = d.server.address();
    return a && typeof a !== 'string' ? a.port : null;
  };
  const policy = new NetPolicy({
    allow: parseRules(d.env.NET_ALLOW),
    deny: parseRules(d.env.NET_DENY),
    selfPort: boundPort,
    selfAddresses: () =>
      Object.values(os.networkInterfaces())
        .flat()
        .map((i) => i?.address ?? '')
        .filter(Boolean),
  });
  const lookup: AddressLookup = hostsLookup(parseHosts(d.env.NET_HOSTS), d.env.NET_RESOLVER === 'system' ? systemLookup : null);
  const doh = new DohResolver({ lookup, policy });
  const audit = new NetAudit(d.db, d.env.NET_AUDIT_DAYS * 86_400_000);

  /** NET=auto: everyone on a personal install (loopback only), signed-in members on a public one. */
  const mode = (): InternetState['mode'] => {
    if (d.env.NET !== 'auto') return d.env.NET;
    const a = d.server.address();
    const local = a && typeof a !== 'string' && parseAddress(a.address)?.effective.range() === 'loopback';
    return local ? 'on' : 'members';
  };
  const seatSocket = (room: string) => {
    const id = d.relays.relay(room)?.hostPeerId;
    return id ? d.relays.io.sockets.sockets.get(id) : undefined;
  };
  const state = (room: string): InternetState => {
    const m = mode();
    const row = d.rooms.get(room);
    const sw = row?.internet ?? null;
    if (m === 'off') return { on: false, switch: sw, mode: m, reason: 'server_off' };
    if (sw === false) return { on: false, switch: sw, mode: m, reason: 'switch_off' };
    if (m === 'members') {
      const s = seatSocket(room)?.data;
      // A member's room hosted by the server's own browser runs commands its members queued.
      const member = !!s && (s.access.memberId.startsWith('u:') || (s.headless && !!row?.ownerId));
      if (!member) return { on: false, switch: sw, mode: m, reason: 'members_only' };
    }
    return { on: true, switch: sw, mode: m, reason: null };
  };

  const hub = new NetHub({
    secret: d.secret,
    policy,
    lookup,
    nameOf: (ip) => doh.nameOf(ip),
    audit,
    limits: d.limits,
    allowed: (room) => state(room).on,
    seat: (room) => {
      const s = seatSocket(room);
      return s ? { clientId: s.data.clientId, memberId: s.data.access.memberId } : null;
    },
    log: d.log,
  });
  // A new host (or none) cuts the old host's network: its token names the seat it was given for.
  const onHost = (room: string) => hub.refresh(room);
  d.relays.events.on('host', onHost);
  const routes = createNetHandler({
    hub,
    doh,
    audit,
    state,
    roomExists: (room) => d.rooms.get(room) !== undefined,
    hostSocket: (room) => {
      const s = seatSocket(room);
      return s ? { sid: s.id, clientId: s.data.clientId } : null;
    },
    clientAddress: d.clientAddress,
    requireAuditReader: d.requireAuditReader,
    authorizeGateway: d.authorizeGateway,
    gateway: new Gateway({ policy, lookup }),
    log: d.log,
  });
  audit.prune();
  const pruneTimer = setInterval(() => audit.prune(), AUDIT_PRUNE_MS).unref();

  return {
    hub,
    doh,
    audit,
    policy,
    state,
    lookup,
    routes,
    handleUpgrade: (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => hub.handleUpgrade(req, socket, head),
    counters: routes.counters,
    /** The room's switch (or who hosts it) changed: live streams follow at once. */
    changed: (room: string) => hub.refresh(room),
    close() {
      clearInterval(pruneTimer);
      d.relays.events.off('host', onHost);
      hub.close();
    },
  };
}
