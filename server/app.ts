import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env } from './env';
import { openDb, type Db } from './db';
import { log as rootLog } from './log';
import { attachRelay, type RelayHub } from './relay/attachRelay';
import { loadOrCreateSecret } from './auth/secret';
import { signHostToken, verifyHostToken } from './auth/hostToken';
import type { RoomStore } from './rooms/RoomStore';
import type { GuestManifest } from './assets/guestManifest';
import { OpenRooms } from './rooms/OpenRooms';
import { SocketQuota } from './access/SocketQuota';
import { CommandQueue } from './commands/CommandQueue';
import { createApiHandlers } from './commands/apiRoutes';
import { API_INFO, openApiDocument } from './http/openapi';
import { apiKeyAuthenticator } from './commands/apiAuth';
import { MAX_HEADLESS_HOSTS, type HeadlessHostPool } from './host/HeadlessHostPool';
import { internalBaseUrl } from './host/internalBase';
import type { AccountStore } from './accounts/AccountStore';
import type { SessionStore } from './accounts/SessionStore';
import { createAccountHandlers } from './accounts/accountRoutes';
import { clientAddressOf, parseTrustedProxies } from './http/clientAddress';
import { Router } from './http/router';
import type { Recorder } from './recordings/Recorder';
import { routeTable } from './http/routes';
import { createSiteHandlers } from './http/siteRoutes';
import { createHttpServer, createRequestListener, createUpgradeListener } from './http/serve';
import { originChecker } from './http/security';
import { can, ROLES } from './accounts/Roles';
import type { RoomAccess } from './access/RoomAccess';
import { createRelayGate } from './access/gates';
import { CLIENT_IP_HEADER } from './auth/services';
import { attachRoomStates } from './roomstate/attachRoomStates';
import { attachNet } from './net/attachNet';
import type { NetLimits } from './net/NetHub';
import { openAccounts } from './wiring/accounts';
import { guestFiles } from './wiring/guestFiles';
import { wireRecordings } from './wiring/recordings';
import { followAccessChanges, wireCollab, yjsUpgrade } from './wiring/collab';
import { headlessHosting, warmBootSnapshotAtStart } from './wiring/headlessHosting';
import { netAccess } from './wiring/netAccess';

export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COMMAND_ROLES = ROLES.filter((r) => can(r, 'pushCommands'));

export type NextHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

export interface TandemServer {
  http: http.Server;
  db: Db;
  rooms: RoomStore;
  access: RoomAccess;
  accounts: AccountStore;
  sessions: SessionStore;
  hub: RelayHub;
  commands: CommandQueue;
  recorder: Recorder;
  roomStates: ReturnType<typeof attachRoomStates>;
  /** Caps and reclaiming of open (signed-out) rooms. */
  openRooms: OpenRooms;
  /** The headless host browser pool, once the server listens and HEADLESS=auto. */
  headless(): HeadlessHostPool | null;
  /** Signs a token that lets the server's headless browser host `room`. */
  hostToken(room: string): string;
  /** Signs cookies (guests) and next-auth's JWTs. */
  secret: string;
  secureCookies: boolean;
  guest: GuestManifest;
  /** The VMs' network (server/net): Wisp hub, DNS, audit, policy. */
  net: ReturnType<typeof attachNet>;
  /** Resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * The composition root: wires one HTTP server from the capabilities, in the order they depend on
 * each other — accounts and access, the guest's files, recordings, shared state (Yjs, keyboard),
 * the terminal relay (Socket.IO), the command queue, the headless host (commands, always-on rooms,
 * the boot snapshot's warm-up), room states, the network, then the route table and the upgrade
 * handlers; everything else goes to Next (when given; integration tests run without it). Each
 * capability's own wiring lives beside it (server/wiring/, or its attach function).
 */
export function createTandemServer(env: Env, opts: { next?: NextHandler; netLimits?: Partial<NetLimits> } = {}): TandemServer {
  const log = rootLog.child({ cap: 'server' });
  const dataDir = path.resolve(env.DATA_DIR);
  const db = openDb(dataDir);
  const secret = loadOrCreateSecret(dataDir, env.AUTH_SECRET);
  const { rooms, accounts, sessions, members, invites, guests, tokens, access, authn, secureCookies } = openAccounts({ env, db, secret });
  const files = guestFiles({ env, rootDir: ROOT_DIR, dataDir, secret, log });
  const { guest } = files;
  const server = createHttpServer(log);
  /** Where the server's own headless browser reaches us, once listening. */
  const internalBase = (): string | null => {
    const addr = server.address();
    return addr && typeof addr !== 'string' ? internalBaseUrl(env.HOST, addr.port) : null;
  };
  const isAllowedOrigin = originChecker(env.PUBLIC_URL, () => internalBase());

  const roomExists = (id: string) => rooms.get(id) !== undefined;
  const socketQuota = new SocketQuota(env.SOCKETS_PER_IP_MAX);
  const clientAddress = clientAddressOf(parseTrustedProxies(env.TRUST_PROXY));
  const { recorder, routes: recordings } = wireRecordings({
    env,
    dataDir,
    rooms,
    members,
    authn,
    roomExists,
    admitOpenRoom: (req) => openRooms.admit(clientAddress(req)),
  });
  const collab = wireCollab({ db, access, authn, secret, roomExists });
  const hub = attachRelay(server, {
    // An imported recording's room is a replay: nothing to host or type into.
    roomExists: (id) => !!rooms.get(id) && !rooms.get(id)!.replayOnly,
    recorder,
    verifyHostToken: (room, token) => verifyHostToken(secret, token, room),
    log: rootLog.child({ cap: 'relay' }),
    gate: createRelayGate({ authn, access, keyboard: collab.keyboard }),
    isAllowedOrigin,
    maxMirrorBytes: env.MIRROR_MEMORY_MAX_MB * 1024 * 1024,
    quota: socketQuota,
    clientAddress,
  });
  const commands = new CommandQueue({ db, hub, log: rootLog.child({ cap: 'commands' }) });
  const openRooms = new OpenRooms({
    rooms,
    secret,
    log: rootLog.child({ cap: 'rooms' }),
    maxOpenRooms: env.OPEN_ROOMS_MAX,
    idleMs: env.OPEN_ROOM_IDLE_DAYS * 24 * 3600_000,
    isLive: (id) => (hub.relay(id)?.size ?? 0) > 0,
    onReclaimed: (id) => access.roomClosed(id),
  });
  // Rooms in use are not idle: every arrival and departure marks the room (at most once a minute).
  hub.io.on('connection', (s) => {
    rooms.touch(s.data.room);
    s.once('disconnect', () => rooms.touch(s.data.room));
  });

  const hosting = headlessHosting({ env, secret, server, internalBase, commands, hub, rooms, warming: (room) => roomStates.warming(room), log });
  const roomStates = attachRoomStates({
    dataDir,
    guest,
    hub,
    headless: hosting.headless,
    roomExists,
    maxMb: env.ROOM_STATE_MAX_MB,
    retentionDays: env.ROOM_STATE_RETENTION_DAYS,
    handoverWaitMs: env.HANDOVER_WAIT_SECONDS * 1000,
    finalWaitMs: env.ROOM_STATE_FINAL_WAIT_MS,
    isHeadlessHost: (room, token) => verifyHostToken(secret, token, room),
    canHost: async (room, req) => authn.resolve(room, await authn.principals(req.headers, room)).canHost,
    log: rootLog.child({ cap: 'roomstate' }),
  });
  warmBootSnapshotAtStart({ env, server, rooms, snapshotFile: files.bootSnapshotFile, warm: (o) => roomStates.warmBootSnapshot(o) });
  hosting.startAlwaysOn();
  // Everyone's access went (the room archived, deleted or reclaimed): so does its headless host, now.
  access.events.on('removed', (room, ids) => ids.includes('*') && hosting.roomClosed(room));

  const accountHandlers = createAccountHandlers({
    clientAddress,
    authn,
    access,
    accounts,
    rooms,
    members,
    invites,
    guests,
    tokens,
    publicUrl: env.PUBLIC_URL,
    secret,
    secureCookies,
    log: rootLog.child({ cap: 'accounts' }),
    hostConnected: (id) => hub.relay(id)?.hasHost ?? false,
    maxAlwaysOn: MAX_HEADLESS_HOSTS,
    alwaysOnChanged: () => hosting.keepAlwaysOn(),
    roomArchived: (id) => commands.cancelQueuedOf(id, 'cancelled before it ran: the room was archived'),
    internetChanged: (id) => net.changed(id),
    internetState: (id) => net.state(id),
  });
  const apiAuth = apiKeyAuthenticator(env.API_KEY, {
    authenticate: (t) => tokens.authenticate(t),
    // A token reaches only rooms where its user may push commands (instructor or owner). Never
    // open rooms: anyone's anonymous room is protected by its secret link alone.
    mayUseRoom: (userId, room) => can(members.role(room, userId), 'pushCommands'),
    roomIds: (userId) => members.roomIdsWithRole(userId, COMMAND_ROLES),
  });
  const net = attachNet({
    clientAddress,
    env,
    db,
    secret,
    server,
    rooms,
    relays: hub,
    log: rootLog.child({ cap: 'net' }),
    limits: opts.netLimits,
    ...netAccess({ rooms, members, access, authn, apiAuth, secret }),
  });
  const apiHandlers = createApiHandlers({
    queue: commands,
    authenticate: apiAuth,
    roomExists,
    rooms: {
      get: (id) => rooms.get(id),
      list: (limit, ids) => rooms.list(limit, ids),
      hostConnected: (id) => hub.relay(id)?.hasHost ?? false,
    },
    apiKey: env.API_KEY,
    log: rootLog.child({ cap: 'api' }),
  });
  const { yjs } = collab;
  followAccessChanges({ access, sessions, hub, yjs, keyboard: collab.keyboard });

  let apiDocument: unknown;
  const site = createSiteHandlers({
    clientAddress,
    env,
    guest,
    bundledGuest: files.bundledGuest,
    rootDiskFile: files.rootDiskFile,
    vmAsset: files.vmAsset,
    bootSnapshot: files.bootSnapshot,
    rooms,
    members,
    authn,
    openRooms,
    liveRooms: () => hub.relays.size,
    // Generated from the route table's docs once, on first request.
    openapi: () => (apiDocument ??= openApiDocument(router.routes, API_INFO)),
  });
  const router = new Router(
    routeTable({ site, api: apiHandlers, accounts: accountHandlers, net: net.routes, recordings, roomStates: roomStates.routes }),
  );
  server.on(
    'request',
    createRequestListener({
      router,
      next: opts.next,
      // next-auth's sign-in rate limit keys on the peer's address; only we may say what it is.
      beforeNext: (req) => (req.headers[CLIENT_IP_HEADER] = clientAddress(req)),
      isAllowedOrigin,
      log: rootLog.child({ cap: 'http' }),
    }),
  );
  // Engine.io answers /socket.io upgrades and Next its own in development (HMR); we take /yjs/*, and close the rest.
  server.on(
    'upgrade',
    createUpgradeListener({
      handlers: [
        // The VMs' network (/net/<token>/): its token is the credential.
        (req, socket, head) => net.handleUpgrade(req, socket, head),
        yjsUpgrade({ yjs, quota: socketQuota, clientAddress }),
      ],
      isAllowedOrigin,
      passThrough: ['/socket.io/', ...(env.NODE_ENV === 'development' ? ['/_next/'] : [])],
      log: rootLog.child({ cap: 'http' }),
    }),
  );

  return {
    http: server,
    db,
    rooms,
    access,
    accounts,
    sessions,
    hub,
    commands,
    recorder,
    roomStates,
    openRooms,
    net,
    headless: hosting.headless,
    guest,
    hostToken: (room) => signHostToken(secret, room),
    secret,
    secureCookies,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as { port: number }).port));
      }),
    close: async () => {
      roomStates.close();
      await hosting.close();
      openRooms.close();
      net.close();
      yjs.close();
      commands.close(); // before the hub: answers requests still waiting on a command, so the HTTP server can close
      await hub.close(); // also closes the HTTP server
      recorder.sync();
      recorder.close();
      db.$client.close();
      log.debug('closed');
    },
  };
}
