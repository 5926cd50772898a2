import type http from 'node:http';
import type { Logger } from 'pino';
import type { Env } from '../env';
import { log as rootLog } from '../log';
import { signHostToken } from '../auth/hostToken';
import { HeadlessHostPool, MAX_HEADLESS_HOSTS } from '../host/HeadlessHostPool';
import type { CommandQueue } from '../commands/CommandQueue';
import type { RelayHub } from '../relay/attachRelay';
import type { RoomStore } from '../rooms/RoomStore';

/** How often always-on rooms are checked for a running VM. */
const ALWAYS_ON_CHECK_MS = 30_000;

/**
 * The server's own headless browser, which hosts rooms that need a VM and have no human host: a
 * command waiting for a VM, an always-on room, the boot snapshot's warm-up. The pool starts on first
 * use once the server listens, and only with HEADLESS=auto.
 */
export function headlessHosting(d: {
  env: Env;
  secret: string;
  server: http.Server;
  /** Where the headless browser reaches this server (null before it listens). */
  internalBase: () => string | null;
  commands: CommandQueue;
  hub: RelayHub;
  rooms: RoomStore;
  /** The room the boot snapshot's warm-up uses (its host is never idle). */
  warming: (room: string) => boolean;
  log: Logger;
}) {
  const { env, server, commands, hub, rooms, log } = d;
  let pool: HeadlessHostPool | null = null;
  let alwaysOnTimer: ReturnType<typeof setInterval> | undefined;
  const headless = (): HeadlessHostPool | null => {
    const base = d.internalBase();
    if (env.HEADLESS !== 'auto' || !base) return null;
    pool ??= new HeadlessHostPool({
      baseUrl: base,
      hostToken: (room) => signHostToken(d.secret, room),
      log: rootLog.child({ cap: 'headless' }),
      idleMs: env.HEADLESS_IDLE_SECONDS * 1000,
      // Not idle while a command waits or runs, while people are in the room with it (it is their
      // VM now: a handover), or while it warms the boot snapshot.
      busy: (room) => commands.busy(room) || (hub.relay(room)?.size ?? 0) > 1 || d.warming(room),
    });
    return pool;
  };
  commands.events.on('needsHost', (room) => {
    const start = () => headless()?.ensureHost(room).catch((err) => log.warn({ err: String(err), room }, 'headless host did not start'));
    if (server.listening) start();
    else server.once('listening', start);
  });
  commands.events.on('finished', (row) => pool?.touch(row.room));

  // Always-on rooms keep a VM: the headless host opens them and is kept from idling out.
  const keepAlwaysOn = () => {
    const pool = headless();
    if (!pool) return;
    for (const r of rooms.alwaysOn(MAX_HEADLESS_HOSTS)) {
      if (!hub.relay(r.id)?.hasHost) void pool.ensureHost(r.id).catch((err) => log.warn({ err: String(err), room: r.id }, 'always-on room did not start'));
      pool.touch(r.id);
    }
  };

  return {
    headless,
    /** An owner turned a room's always-on setting on or off: hosts start now, not at the next check. */
    keepAlwaysOn,
    /** The room was archived or deleted: its headless host (if any) closes now, not when idle. */
    roomClosed(room: string): void {
      void pool?.forget(room).catch((err) => log.warn({ err: String(err), room }, 'headless host did not close'));
    },
    /** Always-on rooms are started once the server listens, and checked every ALWAYS_ON_CHECK_MS. */
    startAlwaysOn(): void {
      alwaysOnTimer = setInterval(keepAlwaysOn, ALWAYS_ON_CHECK_MS).unref();
      server.once('listening', keepAlwaysOn);
    },
    async close(): Promise<void> {
      clearInterval(alwaysOnTimer);
      await pool?.close();
    },
  };
}

/**
 * The first room of a fresh server restores the trusted boot snapshot instead of cold-booting: once
 * listening, a scratch room's headless host boots and saves it. In production only (auto): a
 * Chromium booting a VM at every start would slow tests and development.
 */
export function warmBootSnapshotAtStart(d: {
  env: Env;
  server: http.Server;
  rooms: RoomStore;
  snapshotFile: string;
  warm: (o: { snapshotFile: string; createRoom: () => string; deleteRoom: (id: string) => void }) => Promise<void>;
}): void {
  const { env, rooms } = d;
  if (env.BOOT_SNAPSHOT_WARM === 'on' || (env.BOOT_SNAPSHOT_WARM === 'auto' && env.NODE_ENV === 'production'))
    d.server.once('listening', () =>
      d.warm({
        snapshotFile: d.snapshotFile,
        createRoom: () => rooms.create('Warming the boot snapshot', { guest: 'disk' }).id,
        deleteRoom: (id) => rooms.delete(id),
      }),
    );
}
