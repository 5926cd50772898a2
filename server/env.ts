/**
 * Validated configuration. Imported by entry points only (server/index.ts, scripts, route
 * handlers); libraries take what they need as options.
 */
import { z } from 'zod';
import { parseRules } from './net/NetPolicy';
import { parseHosts } from './net/DohResolver';
import { parseTrustedProxies } from './http/clientAddress';

/** A refine() check from a parser that throws on bad input (the parser's own message says why at use). */
const parses = (parse: (v: string) => unknown) => (v: string) => {
  try {
    parse(v);
    return true;
  } catch {
    return false;
  }
};
const rulesOk = parses(parseRules);
const hostsOk = parses(parseHosts);
const proxiesOk = parses(parseTrustedProxies);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** The hostname Next and the server bind to; browse the same one (see README). */
  HOST: z.string().min(1).default('localhost'),
  PUBLIC_URL: z.url().optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  API_KEY: z.string().min(1).optional(),
  AUTH_SECRET: z.string().min(16).optional(),
  /** GitHub OAuth app: sign-in with GitHub shows when both are set. */
  AUTH_GITHUB_ID: z.string().min(1).optional(),
  AUTH_GITHUB_SECRET: z.string().min(1).optional(),
  VM_ENGINE: z.enum(['auto', 'cheerpx', 'v86']).default('auto'),
  DISK_SOURCE: z.string().optional(),
  /**
   * How much of a room's disk changes the host's page keeps in memory; the rest is read back from
   * IndexedDB when the guest reads it. Half of it (at most 32 MiB) may travel in a saved VM state.
   */
  OVERLAY_MEMORY_MB: z.coerce.number().int().min(8).max(4096).default(64),
  HEADLESS: z.enum(['auto', 'off']).default('auto'),
  /** A headless host with no command and no always-on room to serve is closed after this long. */
  HEADLESS_IDLE_SECONDS: z.coerce.number().int().min(5).max(86_400).default(300),
  /** Per-room cap on stored VM states (chunks of the newest two states plus uploads in progress). */
  ROOM_STATE_MAX_MB: z.coerce.number().int().min(1).max(65_536).default(256),
  /** A room whose newest VM state is older than this loses its states. */
  ROOM_STATE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /**
   * When a host leaves and people remain, a guest has this long to press "Take over" before the
   * server's headless host resumes the VM; 0: it never steps in for a leaving host.
   */
  HANDOVER_WAIT_SECONDS: z.coerce.number().int().min(0).max(3600).default(3),
  /**
   * A host closing its page sends its final VM state after the page is gone (a service worker);
   * the next host's restore waits for it at most this long; 0: never waits.
   */
  ROOM_STATE_FINAL_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(8000),
  /**
   * Warm the boot snapshot at start: a headless host cold-boots the guest once when it has none, so
   * the first room restores instead of cold-booting. auto = on in production (NODE_ENV=production).
   */
  BOOT_SNAPSHOT_WARM: z.enum(['auto', 'on', 'off']).default('auto'),
  /**
   * Who gets the VM network (server/net): members (rooms hosted by a signed-in member), on
   * (everyone), off; auto = on while the server listens on loopback only, else members.
   */
  NET: z.enum(['auto', 'members', 'on', 'off']).default('auto'),
  /** CIDRs / IPs, each optionally :port, opened or closed whatever their range (server/net/NetPolicy.ts). */
  NET_ALLOW: z.string().refine(rulesOk, 'want CIDRs or IPs, optionally with :port, comma separated').optional(),
  NET_DENY: z.string().refine(rulesOk, 'want CIDRs or IPs, optionally with :port, comma separated').optional(),
  /** Static names for the VMs' DNS, `name=ip[|ip]` comma separated, answered before the resolver. */
  NET_HOSTS: z.string().refine(hostsOk, 'want name=ip entries, comma separated').optional(),
  /** system: the server's resolver after NET_HOSTS; hosts: NET_HOSTS only (tests, closed networks). */
  NET_RESOLVER: z.enum(['system', 'hosts']).default('system'),
  /** Days the network audit (every VM connection) is kept. */
  NET_AUDIT_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Open rooms (made signed out) the whole server holds at most. */
  OPEN_ROOMS_MAX: z.coerce.number().int().min(1).max(1_000_000).default(5000),
  /** An open room nobody has entered for this many days is deleted. */
  OPEN_ROOM_IDLE_DAYS: z.coerce.number().min(0.001).max(3650).default(14),
  /** Terminal mirrors of all rooms together (MiB); past it, empty rooms give theirs up at once. */
  MIRROR_MEMORY_MAX_MB: z.coerce.number().int().min(1).max(1_000_000).default(256),
  /** Live sockets (Socket.IO and Yjs together) one address (IPv6: one /64) may hold. */
  SOCKETS_PER_IP_MAX: z.coerce.number().int().min(1).max(1_000_000).default(2000),
  /**
   * Reverse proxies (IPs or CIDRs, comma separated) whose X-Forwarded-For names the client for the
   * per-address limits; unset, the header is ignored (server/http/clientAddress.ts).
   */
  TRUST_PROXY: z.string().refine(proxiesOk, 'want IPs or CIDRs, comma separated').optional(),
  /** Recordings: at most this many MiB per room (all its terminals); the oldest parts go first. */
  RECORDING_MAX_MB: z.coerce.number().positive().max(1_000_000).default(512),
  /** Recordings: parts untouched for longer than this many days are deleted. */
  RECORDING_RETENTION_DAYS: z.coerce.number().positive().max(36_500).default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof schema> & { PUBLIC_URL: string };

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  return { ...env, PUBLIC_URL: env.PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}` };
}

/**
 * HOST binds where it says: `localhost` is loopback only (127.0.0.1, which browsers reach for
 * localhost), never every interface. HOST=0.0.0.0 (or ::) serves the network.
 */
export function bindAddress(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}
