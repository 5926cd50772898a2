import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Env } from './env';
import { openDb, type Db } from './db';
import { log as rootLog } from './log';
import { attachRelay, HEADLESS_ACCESS, type RelayHub } from './relay/attachRelay';
import { YjsHub } from './collab/YjsHub';
import { loadOrCreateSecret } from './auth/secret';
import { signHostToken, verifyHostToken } from './auth/hostToken';
import { RoomStore } from './rooms/RoomStore';
import { createVmAssetHandler } from './assets/vmAssets';
import { createBootSnapshotHandler } from './assets/bootSnapshots';
import { buildGuestManifest, findRootDisk, missingGuestFiles, type GuestManifest } from './assets/guestManifest';
import { sendFile } from './assets/rangeFile';
import { OpenRooms } from './rooms/OpenRooms';
import { SocketQuota } from './access/SocketQuota';
import { HttpError, sendHttpError } from './commands/HttpError';
import { readBody, sendError, sendJson } from './http/json';
import { PROTOCOL_VERSION, ROOM_GUESTS } from '../lib/shared/protocol';
import { TandemError } from '../lib/shared/errors';
import { CommandQueue } from './commands/CommandQueue';
import { createApiHandler } from './commands/apiRoutes';
import { apiKeyAuthenticator } from './commands/apiAuth';
import { HeadlessHostPool } from './host/HeadlessHostPool';
import { DEFAULT_CHEERPX_DISK } from '../lib/shared/engines';
import { AccountStore } from './accounts/AccountStore';
import { ApiTokenStore } from './accounts/ApiTokenStore';
import { GuestStore } from './accounts/GuestStore';
import { InviteStore } from './accounts/InviteStore';
import { MembershipStore } from './accounts/MembershipStore';
import { RateLimiter, SIGN_IN_PER_EMAIL, SIGN_IN_PER_IP } from './accounts/RateLimiter';
import { SessionStore } from './accounts/SessionStore';
import { createAccountHandler, clientIp } from './accounts/accountRoutes';
import { can, ROLES } from './accounts/Roles';
import { Authenticator, signedInWith } from './access/Authenticator';
import { RoomAccess, userMemberId, type Identity } from './access/RoomAccess';
import { applyControl, mayType } from './access/RoomControl';
import { registerAuthServices, CLIENT_IP_HEADER } from './auth/services';
import { controlSchemas, type Handshake } from '../lib/shared/protocol';
import { EventEmitter } from 'node:events';
import { MAX_HEADLESS_HOSTS } from './host/HeadlessHostPool';
import { attachRoomStates } from './roomstate/attachRoomStates';
import { attachNet } from './net/attachNet';
import type { NetLimits } from './net/NetHub';
import { presentedKey } from './commands/apiAuth';

export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAX_FORM_BYTES = 4 * 1024;
const COMMAND_ROLES = ROLES.filter((r) => can(r, 'pushCommands'));
/** How often always-on rooms are checked for a running VM. */
const ALWAYS_ON_CHECK_MS = 30_000;

type NextHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

export interface TandemServer {
  http: http.Server;
  db: Db;
  rooms: RoomStore;
  access: RoomAccess;
  accounts: AccountStore;
  sessions: SessionStore;
  hub: RelayHub;
  commands: CommandQueue;
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
  const bootSnapshot = createBootSnapshotHandler({
    dir: path.join(dataDir, 'snapshots'),
    guestVersion: guest.version,
    // Any room's valid host token: the headless browser is the server's own.
    isTrustedHost: (token) => verifyHostToken(secret, token, token.split('.')[0] ?? ''),
  });
  const started = Date.now();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    if (p.startsWith('/socket.io/')) return; // engine.io answers these itself
    if (p === '/healthz') {
      return sendJson(res, 200, { ok: true, protocol: PROTOCOL_VERSION, guest: guest.version, uptimeMs: Date.now() - started, rooms: hub.relays.size });
    }
    if (p === '/vm/manifest.json') return sendJson(res, 200, manifestFor(url.searchParams.get('room'), url.searchParams.get('guest') === 'bundled'));
    if (p.startsWith('/vm/boot-snapshot/')) return void bootSnapshot(req, res, p.slice('/vm/boot-snapshot/'.length));
    if (p.startsWith('/vm/disk/')) {
      // The root disk, read lazily by v86 with Range requests; its URL carries its version.
      if (!rootDisk || !('file' in rootDisk) || p !== guest.disk?.url) return sendError(res, 404, 'NOT_FOUND', 'no such disk');
      return sendFile(req, res, rootDisk.file, { immutable: true });
    }
    if (p.startsWith('/vm/')) return vmAsset(req, res, decodeURIComponent(p.slice(4)));
    if (p === '/rooms/new' && req.method === 'POST') return void createRoom(req, res);
    if (netRoutes(req, res, url)) return;
    if (accountRoutes(req, res, url)) return;
    if (roomStates.handler(req, res, url)) return;
    if (api(req, res, url)) return;
    // next-auth's sign-in rate limit keys on the peer's address; only we may say what it is.
    req.headers[CLIENT_IP_HEADER] = clientIp(req);
    if (opts.next) return void opts.next(req, res);
    sendError(res, 404, 'NOT_FOUND', `no route ${p}`);
  });

  async function createRoom(req: http.IncomingMessage, res: http.ServerResponse) {
    try {
      const body = await readBody(req, MAX_FORM_BYTES);
      const form = new URLSearchParams(body);
      // Signed in: a members-only room of theirs. Signed out: an open room, as before accounts.
      const user = await authn.user(req.headers);
      // Anyone may make an open room: rate-limited and capped per client and for the server.
      const creatorKey = user ? null : openRooms.admit(clientIp(req));
      const room = rooms.create(form.get('name') || 'Untitled room', { guest: ROOM_GUESTS.find((g) => g === form.get('guest')) ?? null, creatorKey });
      if (user) members.addOwner(room.id, user.id);
      res.writeHead(303, { location: `/r/${room.id}` }).end();
    } catch (e) {
      if (e instanceof TandemError) {
        const retryMs = (e as { retryAfterMs?: number }).retryAfterMs;
        return sendHttpError(res, new HttpError(e.code, e.message, retryMs ? { 'retry-after': String(Math.ceil(retryMs / 1000)) } : {}));
      }
      sendError(res, 413, 'TOO_LARGE', 'form too large');
    }
  }

  const roomExists = (id: string) => rooms.get(id) !== undefined;
  const socketQuota = new SocketQuota(env.SOCKETS_PER_IP_MAX);
  const yjsRef: { hub?: YjsHub } = {};
  const control = (room: string) => yjsRef.hub!.control(room);
  const memberCanType = (room: string, memberId: string) => access.memberCanType(room, memberId);
  const gate = {
    events: access.events,
    async authenticate(req: { headers: Record<string, string | string[] | undefined> }, hs: Handshake) {
      const principal = await authn.principals(req.headers, hs.room);
      const a = authn.resolve(hs.room, principal, hs.clientId);
      return { access: a.memberId.startsWith('a:') && hs.name ? { ...a, name: hs.name } : a, principal };
    },
    recheck: (room: string, principal: unknown, hs: Handshake) => {
      try {
        return authn.resolve(room, principal as Identity[], hs.clientId);
      } catch {
        return null;
      }
    },
    mayType: (room: string, a: Parameters<typeof mayType>[1]) => mayType(control(room), a),
    control(room: string, a: Parameters<typeof mayType>[1], event: keyof typeof controlSchemas, payload: unknown) {
      const parsed = controlSchemas[event].safeParse(payload);
      if (!parsed.success) throw new TandemError('BAD_MESSAGE', `${event}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      yjsRef.hub!.setControl(room, applyControl(control(room), a, event, parsed.data, (m) => memberCanType(room, m)));
    },
  };
  const hub = attachRelay(server, {
    roomExists,
    verifyHostToken: (room, token) => verifyHostToken(secret, token, room),
    log: rootLog.child({ cap: 'relay' }),
    gate,
    maxMirrorBytes: env.MIRROR_MEMORY_MAX_MB * 1024 * 1024,
    quota: socketQuota,
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

  /** The guest to boot plus this room's engine choice (room setting, else VM_ENGINE). */
  function manifestFor(roomId: string | null, bundled = false) {
    const room = roomId ? rooms.get(roomId) : undefined;
    // The small guest is v86's own: a room that asks for it runs v86 whatever the engine setting.
    const small = bundled || room?.guest === 'small';
    const engine = (room?.guest === 'small' ? 'v86' : (room?.engine ?? env.VM_ENGINE)) as 'auto' | 'cheerpx' | 'v86';
    return { ...(small ? bundledGuest : guest), engineChoice: engine, cheerpxDisk: env.DISK_SOURCE ?? DEFAULT_CHEERPX_DISK };
  }

  // The server's own headless browser hosts rooms that need a VM and have no human host.
  let pool: HeadlessHostPool | null = null;
  const headless = (): HeadlessHostPool | null => {
    const addr = server.address();
    if (env.HEADLESS !== 'auto' || !addr || typeof addr === 'string') return null;
    pool ??= new HeadlessHostPool({
      baseUrl: `http://${env.HOST}:${addr.port}`,
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
    roomExists,
    maxMb: env.ROOM_STATE_MAX_MB,
    retentionDays: env.ROOM_STATE_RETENTION_DAYS,
    isHeadlessHost: (room, token) => verifyHostToken(secret, token, room),
    mayHost: async (room, req) => {
      try {
        return authn.resolve(room, await authn.principals(req.headers, room)).canHost;
      } catch {
        return false;
      }
    },
    headless,
    log: rootLog.child({ cap: 'roomstate' }),
  });
  // The first room of a fresh server restores the trusted boot snapshot instead of cold-booting.
  server.once('listening', () =>
    void roomStates
      .warmBootSnapshot({
        snapshotFile: path.join(dataDir, 'snapshots', `${guest.version}.state.gz`),
        createRoom: () => rooms.create('Warming the boot snapshot', { guest: 'disk' }).id,
        deleteRoom: (id) => rooms.delete(id),
      })
      .catch((err) => log.warn({ err: String(err) }, 'could not warm the boot snapshot')),
  );
  const accountRoutes = createAccountHandler({
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
  });
  const netRoutes = net.handle;
  const api = createApiHandler({
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
  const yjs = new YjsHub({
    roomExists,
    db,
    log: rootLog.child({ cap: 'yjs' }),
    authorize: async (req, roomId) => {
      // The server's headless host shows up in presence too (its page passes its host token).
      const hostToken = new URL(req.url ?? '/', 'http://x').searchParams.get('host');
      if (hostToken && verifyHostToken(secret, hostToken, roomId)) return { memberId: HEADLESS_ACCESS.memberId, name: HEADLESS_ACCESS.name, canWrite: false };
      const principals = await authn.principals(req.headers, roomId);
      const a = authn.resolve(roomId, principals);
      const sid = principals.find((p) => p.kind === 'user' && a.memberId === userMemberId(p.userId));
      return { memberId: a.memberId, name: a.memberId.startsWith('a:') ? null : a.name, canWrite: a.canType, sid: sid?.kind === 'user' ? sid.sid : undefined };
    },
  });
  yjsRef.hub = yjs;
  // Role changes reach the notes and the keyboard too: a demoted holder loses the keyboard.
  const onAccessChange = (roomId: string) => {
    yjs.revalidate(roomId, (memberId) => {
      const a = access.memberAccess(roomId, memberId);
      return a && { memberId, name: memberId.startsWith('a:') ? null : a.name, canWrite: a.canType };
    });
    const c = yjs.control(roomId);
    if (c.holder && !access.memberCanType(roomId, c.holder)) yjs.setControl(roomId, { ...c, holder: null });
  };
  access.events.on('changed', onAccessChange);
  // Signing out (or revoking a session) ends that session's live connections, not only its next request.
  sessions.events.on('ended', (sids) => {
    hub.disconnectWhere((p) => signedInWith(p, sids), { code: 'UNAUTHORIZED', message: 'you signed out' });
    yjs.closeWhere((peer) => peer.sid !== undefined && sids.includes(peer.sid));
  });
  access.events.on('removed', (roomId, ids) => {
    if (ids.includes('*')) yjs.revalidate(roomId, () => null);
    else onAccessChange(roomId);
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
  // Engine.io answers /socket.io upgrades and Next its own (HMR); we take /yjs/* only.
  // The VMs' network (/net/<token>/) is routed first, by path, before anything else sees it.
  server.on('upgrade', (req, socket, head) => {
    if (net.handleUpgrade(req, socket, head)) return;
    if (!(req.url ?? '').startsWith('/yjs/')) return void yjs.handleUpgrade(req, socket, head);
    // Yjs connections count against the same per-address quota as the terminal's sockets.
    const release = socketQuota.acquire(req.socket.remoteAddress);
    if (!release) return void socket.end('HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    socket.once('close', release);
    yjs.handleUpgrade(req, socket, head);
  });

  return {
    http: server,
    db,
    rooms,
    access,
    accounts,
    sessions,
    hub,
    commands,
    roomStates,
    openRooms,
    headless,
    guest,
    net,
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
      openRooms.close();
      await pool?.close();
      net.close();
      yjs.close();
      commands.close(); // before the hub: answers requests still waiting on a command, so the HTTP server can close
      await hub.close(); // also closes the HTTP server
      db.$client.close();
      log.debug('closed');
    },
  };
}
