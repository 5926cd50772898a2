import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Env } from './env';
import { openDb, type Db } from './db';
import { log as rootLog } from './log';
import { attachRelay, HEADLESS_ACCESS, type RelayHub } from './relay/attachRelay';
import { YjsDocs } from './collab/YjsDocs';
import { YjsEndpoint } from './collab/YjsEndpoint';
import { loadOrCreateSecret } from './auth/secret';
import { signHostToken, verifyHostToken } from './auth/hostToken';
import { RoomStore } from './rooms/RoomStore';
import { createVmAssetHandler } from './assets/vmAssets';
import { bootSnapshotFile, createBootSnapshotHandler } from './assets/bootSnapshots';
import { buildGuestManifest, findRootDisk, missingGuestFiles, type GuestManifest } from './assets/guestManifest';
import { OpenRooms } from './rooms/OpenRooms';
import { SocketQuota } from './access/SocketQuota';
import { HttpError } from './http/errors';
import { CommandQueue } from './commands/CommandQueue';
import { createApiHandlers } from './commands/apiRoutes';
import { API_INFO, openApiDocument } from './http/openapi';
import { apiKeyAuthenticator, presentedKey } from './commands/apiAuth';
import { HeadlessHostPool } from './host/HeadlessHostPool';
import { AccountStore } from './accounts/AccountStore';
import { ApiTokenStore } from './accounts/ApiTokenStore';
import { GuestStore } from './accounts/GuestStore';
import { InviteStore } from './accounts/InviteStore';
import { MembershipStore } from './accounts/MembershipStore';
import { RateLimiter, SIGN_IN_PER_EMAIL, SIGN_IN_PER_IP } from './accounts/RateLimiter';
import { SessionStore } from './accounts/SessionStore';
import { createAccountHandlers } from './accounts/accountRoutes';
import { clientAddressOf, parseTrustedProxies } from './http/clientAddress';
import { Router } from './http/router';
import { Recorder } from './recordings/Recorder';
import { createRecordingHandlers } from './recordings/recordingRoutes';
import { routeTable } from './http/routes';
import { createSiteHandlers } from './http/siteRoutes';
import { createRequestListener, createUpgradeListener } from './http/serve';
import { originChecker } from './http/security';
import { refuseUpgrade } from './http/refuseUpgrade';
import { can, ROLES } from './accounts/Roles';
import { Authenticator, signedInWith } from './access/Authenticator';
import { RoomAccess } from './access/RoomAccess';
import { KeyboardControl } from './access/KeyboardControl';
import { createRelayGate, createYjsAuthorizer, yjsPeer } from './access/gates';
import { registerAuthServices, CLIENT_IP_HEADER } from './auth/services';
import { MAX_HEADLESS_HOSTS } from './host/HeadlessHostPool';
import { attachRoomStates } from './roomstate/attachRoomStates';
import { attachNet } from './net/attachNet';
import type { NetLimits } from './net/NetHub';

export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COMMAND_ROLES = ROLES.filter((r) => can(r, 'pushCommands'));
/** How often always-on rooms are checked for a running VM. */
const ALWAYS_ON_CHECK_MS = 30_000;

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
 * Wires one HTTP server: our own routes (health, VM assets, room creation), Socket.IO for the
 * terminal relay, and everything else to Next (when given; integration tests run without it).
 */
export function createTandemServer(env: Env, opts: { next?: NextHandler; netLimits?: Partial<NetLimits> } = {}): TandemServer {
  const log = rootLog.child({ cap: 'server' });
  const dataDir = path.resolve(env.DATA_DIR);
  const db = openDb(dataDir);
  const secret = loadOrCreateSecret(dataDir, env.AUTH_SECRET);
  const rooms = new RoomStore(db);
  const accounts = new AccountStore(db);
  const sessions = new SessionStore(db);
  const members = new MembershipStore(db);
  const invites = new InviteStore(db, members);
  const guests = new GuestStore(db);
  const tokens = new ApiTokenStore(db);
  const access = new RoomAccess({ rooms, members, guests, invites, accounts });
  const secureCookies = env.PUBLIC_URL.startsWith('https:');
  const authn = new Authenticator({ secret, secureCookies, sessions, accounts, access });
  registerAuthServices({
    secret,
    secureCookies,
    accounts,
    sessions,
    signInPerIp: new RateLimiter(SIGN_IN_PER_IP),
    signInPerEmail: new RateLimiter(SIGN_IN_PER_EMAIL),
    log: rootLog.child({ cap: 'auth' }),
    github: env.AUTH_GITHUB_ID && env.AUTH_GITHUB_SECRET ? { clientId: env.AUTH_GITHUB_ID, clientSecret: env.AUTH_GITHUB_SECRET } : null,
  });
  const publicVm = path.join(ROOT_DIR, 'public', 'vm');
  const missing = missingGuestFiles(publicVm);
  if (missing.length) throw new Error(`guest files missing in public/vm: ${missing.join(', ')} (run scripts/build-guest)`);
  const v86Version = (createRequire(import.meta.url)('v86/package.json') as { version: string }).version;
  const rootDisk = findRootDisk(ROOT_DIR, env.DISK_SOURCE);
  if (rootDisk && 'error' in rootDisk) log.error({ disk: env.DISK_SOURCE }, rootDisk.error);
  const guest = buildGuestManifest(publicVm, v86Version, rootDisk);
  // The bundled guest, also when a root disk is announced: /alpine's v86 screen needs its login
  // shell on the VGA console (tty1), which the Debian disk does not run (its shell is on ttyS0).
  const bundledGuest = rootDisk && 'file' in rootDisk ? buildGuestManifest(publicVm, v86Version, null) : guest;
  const vmAsset = createVmAssetHandler(publicVm, ROOT_DIR);
  const snapshotDir = path.join(dataDir, 'snapshots');
  const bootSnapshot = createBootSnapshotHandler({
    dir: snapshotDir,
    guestVersion: guest.version,
    // Any room's valid host token: the headless browser is the server's own.
    isTrustedHost: (token) => verifyHostToken(secret, token, token.split('.')[0] ?? ''),
  });
  const server = http.createServer();
  server.on('clientError', (err, socket) => {
    // A malformed request line or header: 400 at once (Node's default answer), logged at debug only.
    log.debug({ err: String(err) }, 'bad request');
    // Junk after a request that was already answered must not get a second response on the same
    // socket (a client reads that as a broken answer): only a socket with no answer under way gets the 400.
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !answering?.headersSent) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  const roomExists = (id: string) => rooms.get(id) !== undefined;
  const socketQuota = new SocketQuota(env.SOCKETS_PER_IP_MAX);
  const clientAddress = clientAddressOf(parseTrustedProxies(env.TRUST_PROXY));
  const recorder = new Recorder({
    dir: path.join(dataDir, 'recordings'),
    maxRoomBytes: env.RECORDING_MAX_MB * 2 ** 20,
    retentionMs: env.RECORDING_RETENTION_DAYS * 86_400_000,
    recordInput: (id) => rooms.get(id)?.recordInput ?? false,
    roomExists,
    log: rootLog.child({ cap: 'recordings' }),
  });
  const recordings = createRecordingHandlers({
    recorder,
    authorize: async (req, roomId) => {
      authn.resolve(roomId, await authn.principals(req.headers, roomId));
    },
    room: (id) => rooms.get(id),
    createReplayRoom: async (req, name) => {
      const user = await authn.user(req.headers);
      // Signed out, an import is an open room: the same caps as any open room's creation.
      const creatorKey = user ? null : openRooms.admit(clientAddress(req));
      const room = rooms.create(name, { replayOnly: true, creatorKey });
      if (user) members.addOwner(room.id, user.id);
      return { id: room.id, name: room.name };
    },
    deleteRoom: (id) => rooms.delete(id),
    publicOrigin: new URL(env.PUBLIC_URL).origin,
    log: rootLog.child({ cap: 'recordings' }),
  });
  const yjsDocs = new YjsDocs({ db, log: rootLog.child({ cap: 'yjs' }) });
  // The keyboard's authority; the rooms' Yjs documents mirror it for everyone to see.
  const keyboard = new KeyboardControl({ mirror: yjsDocs, memberCanType: (room, memberId) => access.memberCanType(room, memberId) });
  const gate = createRelayGate({ authn, access, keyboard });
  const hub = attachRelay(server, {
    // An imported recording's room is a replay: nothing to host or type into.
    roomExists: (id) => !!rooms.get(id) && !rooms.get(id)!.replayOnly,
    recorder,
    verifyHostToken: (room, token) => verifyHostToken(secret, token, room),
    log: rootLog.child({ cap: 'relay' }),
    gate,
    isAllowedOrigin: (origin) => isAllowedOrigin(origin),
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

  /** Where the server's own headless browser reaches us, once listening. */
  const internalBase = (): string | null => {
    const addr = server.address();
    return addr && typeof addr !== 'string' ? `http://${env.HOST}:${addr.port}` : null;
  };
  // The server's own headless browser hosts rooms that need a VM and have no human host.
  let pool: HeadlessHostPool | null = null;
  const headless = (): HeadlessHostPool | null => {
    const base = internalBase();
    if (env.HEADLESS !== 'auto' || !base) return null;
    pool ??= new HeadlessHostPool({
      baseUrl: base,
      hostToken: (room) => signHostToken(secret, room),
      log: rootLog.child({ cap: 'headless' }),
      idleMs: env.HEADLESS_IDLE_SECONDS * 1000,
      // Not idle while a command waits or runs, while people are in the room with it (it is their
      // VM now: a handover), or while it warms the boot snapshot.
      busy: (room) => commands.busy(room) || (hub.relay(room)?.size ?? 0) > 1 || roomStates.warming(room),
    });
    return pool;
  };
  commands.events.on('needsHost', (room) => {
    const start = () => headless()?.ensureHost(room).catch((err) => log.warn({ err: String(err), room }, 'headless host did not start'));
    if (server.listening) start();
    else server.once('listening', start);
  });
  commands.events.on('finished', (row) => pool?.touch(row.room));
  const roomStates = attachRoomStates({
    dataDir,
    guest,
    hub,
    headless,
    roomExists,
    maxMb: env.ROOM_STATE_MAX_MB,
    retentionDays: env.ROOM_STATE_RETENTION_DAYS,
    handoverWaitMs: env.HANDOVER_WAIT_SECONDS * 1000,
    finalWaitMs: env.ROOM_STATE_FINAL_WAIT_MS,
    isHeadlessHost: (room, token) => verifyHostToken(secret, token, room),
    canHost: async (room, req) => authn.resolve(room, await authn.principals(req.headers, room)).canHost,
    log: rootLog.child({ cap: 'roomstate' }),
  });
  // The first room of a fresh server restores the trusted boot snapshot instead of cold-booting; in
  // production only (auto): a Chromium booting a VM at every start would slow tests and development.
  if (env.BOOT_SNAPSHOT_WARM === 'on' || (env.BOOT_SNAPSHOT_WARM === 'auto' && env.NODE_ENV === 'production'))
    server.once('listening', () =>
      roomStates.warmBootSnapshot({
        snapshotFile: bootSnapshotFile(snapshotDir, guest.version),
        createRoom: () => rooms.create('Warming the boot snapshot', { guest: 'disk' }).id,
        deleteRoom: (id) => rooms.delete(id),
      }),
    );
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
    alwaysOnChanged: () => keepAlwaysOn(),
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
    // Owners read their room's network audit; API credentials (the key, an instructor's token) too.
    async requireAuditReader(req, url, room) {
      if (!rooms.get(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
      if (presentedKey(req, url)) {
        if (!apiAuth(req, url).mayUseRoom(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
        return;
      }
      const user = await authn.user(req.headers);
      if (!user) throw new HttpError('UNAUTHORIZED', 'sign in as an owner of the room, or use an API key');
      access.requireRole(room, user.id, 'owner');
    },
    // The seed's gateway: API credentials, the room's host token (its headless host), or a member's session.
    async authorizeGateway(req, url, room) {
      if (!rooms.get(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
      if (presentedKey(req, url)) {
        const p = apiAuth(req, url);
        if (!p.mayUseRoom(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
        return p.kind === 'user' ? `u:${p.userId}` : 'api';
      }
      const hostTokenHeader = req.headers['x-host-token'];
      if (typeof hostTokenHeader === 'string' && verifyHostToken(secret, hostTokenHeader, room)) return HEADLESS_ACCESS.memberId;
      const user = await authn.user(req.headers);
      if (user && members.role(room, user.id)) return `u:${user.id}`;
      throw new HttpError('UNAUTHORIZED', "the gateway needs an API key, the room's host token or a member's session", { 'www-authenticate': 'Bearer' });
    },
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
  const yjs = new YjsEndpoint({
    docs: yjsDocs,
    roomExists,
    log: rootLog.child({ cap: 'yjs' }),
    authorize: createYjsAuthorizer({
      authn,
      // The server's headless host shows up in presence too (its page passes its host token).
      headless: (req, roomId) => {
        const hostToken = new URL(req.url ?? '/', 'http://x').searchParams.get('host');
        return hostToken && verifyHostToken(secret, hostToken, roomId) ? { memberId: HEADLESS_ACCESS.memberId, name: HEADLESS_ACCESS.name, canWrite: false } : null;
      },
    }),
  });
  // Role changes reach the notes and the keyboard too: a demoted holder loses the keyboard.
  const onAccessChange = (roomId: string) => {
    yjs.revalidate(roomId, (memberId) => {
      const a = access.memberAccess(roomId, memberId);
      return a && yjsPeer(a);
    });
    keyboard.recheck(roomId);
  };
  access.events.on('changed', onAccessChange);
  access.events.on('removed', (roomId, ids) => {
    if (!ids.includes('*')) return onAccessChange(roomId);
    yjs.revalidate(roomId, () => null);
    keyboard.forget(roomId);
  });
  // A room's keyboard entry goes with its relay (it reloads from the document when used again).
  hub.events.on('closed', (roomId) => keyboard.forget(roomId));
  // Signing out (or revoking a session) ends that session's live connections, not only its next request.
  sessions.events.on('ended', (sids) => {
    hub.disconnectWhere((p) => signedInWith(p, sids), { code: 'UNAUTHORIZED', message: 'you signed out' });
    yjs.closeWhere((peer) => peer.sid !== undefined && sids.includes(peer.sid));
  });

  // Always-on rooms keep a VM: the headless host opens them and is kept from idling out.
  const keepAlwaysOn = () => {
    const pool = headless();
    if (!pool) return;
    for (const r of rooms.alwaysOn(MAX_HEADLESS_HOSTS)) {
      if (!hub.relay(r.id)?.hasHost) void pool.ensureHost(r.id).catch((err) => log.warn({ err: String(err), room: r.id }, 'always-on room did not start'));
      pool.touch(r.id);
    }
  };
  const alwaysOnTimer = setInterval(keepAlwaysOn, ALWAYS_ON_CHECK_MS).unref();
  server.once('listening', keepAlwaysOn);
  let apiDocument: unknown;
  const site = createSiteHandlers({
    clientAddress,
    env,
    guest,
    bundledGuest,
    rootDiskFile: rootDisk && 'file' in rootDisk ? rootDisk.file : null,
    vmAsset,
    bootSnapshot,
    rooms,
    members,
    authn,
    openRooms,
    liveRooms: () => hub.relays.size,
    // Generated from the route table's docs once, on first request.
    openapi: () => (apiDocument ??= openApiDocument(router.routes, API_INFO)),
  });
  const isAllowedOrigin = originChecker(env.PUBLIC_URL, () => internalBase());
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
        (req, socket, head, url) => {
          if (!url.pathname.startsWith('/yjs/')) return false;
          // Yjs connections count against the same per-address quota as the terminal's sockets.
          const release = socketQuota.acquire(clientAddress(req));
          if (!release) {
            refuseUpgrade(socket, 'QUOTA_EXCEEDED', `at most ${socketQuota.maxPerIp} connections per address`);
            return true;
          }
          socket.once('close', release);
          return yjs.handleUpgrade(req, socket, head, url);
        },
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
    headless,
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
      clearInterval(alwaysOnTimer);
      roomStates.close();
      await pool?.close();
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
