import ipaddr from 'ipaddr.js';

/**
 * Where a VM (or the HTTP gateway) may connect: the one decision, free of any transport. Only
 * public unicast passes; every other range, and every IPv6 form that embeds a refused IPv4
 * (mapped, compatible, SIIT, NAT64, 6to4), is refused with a reason. `NET_DENY` entries win over
 * everything, `NET_ALLOW` entries open what the ranges would refuse, and the server's own port
 * on its own addresses stays shut whatever `NET_ALLOW` says.
 */

export type RefusalReason =
  | 'bad_address' // not an IP literal (names are resolved before the policy sees them)
  | 'bad_port'
  | 'self' // the server's own listening port
  | 'denied' // NET_DENY
  | 'smtp' // outbound mail, closed by default
  | 'loopback'
  | 'private'
  | 'link_local' // includes cloud metadata (169.254.169.254)
  | 'cgnat'
  | 'unique_local'
  | 'multicast'
  | 'broadcast'
  | 'unspecified'
  | 'reserved';

export type Verdict = { ok: true; ip: string; family: 4 | 6 } | { ok: false; reason: RefusalReason; ip?: string };

/** One `NET_ALLOW` / `NET_DENY` entry: a CIDR (or one address) and optionally one port. */
export interface NetRule {
  range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  port: number | null;
}

/** Outbound SMTP: mail from classroom VMs is spam waiting to happen. */
export const SMTP_PORT = 25;

const V4_REASONS: Record<string, RefusalReason> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link_local',
  loopback: 'loopback',
  carrierGradeNat: 'cgnat',
  private: 'private',
};
const V6_REASONS: Record<string, RefusalReason> = {
  unspecified: 'unspecified',
  linkLocal: 'link_local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'unique_local',
  deprecatedSiteLocal: 'unique_local',
};

/**
 * Parses an address however it is spelled (`127.1`, `0x7f000001`, `2130706433`, `[::1]`,
 * `::ffff:7f00:1`) and returns the address that decides its class: the embedded IPv4 of the
 * IPv6 forms that carry one. Null when it is not an IP literal.
 */
export function parseAddress(host: string): { addr: ipaddr.IPv4 | ipaddr.IPv6; effective: ipaddr.IPv4 | ipaddr.IPv6 } | null {
  let h = host.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  // Zone ids (fe80::1%eth0) name an interface of this machine: never a public destination.
  if (h.includes('%') || !ipaddr.isValid(h)) return null;
  const addr = ipaddr.parse(h);
  return { addr, effective: embeddedIPv4(addr) ?? addr };
}

function embeddedIPv4(addr: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | null {
  if (addr.kind() !== 'ipv6') return null;
  const v6 = addr as ipaddr.IPv6;
  const p = v6.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const range = v6.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') return v4(p[6], p[7]);
  if (range === '6to4') return v4(p[1], p[2]);
  // IPv4-compatible (::a.b.c.d, deprecated): ipaddr.js calls ::7f00:1 "unicast".
  if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7] > 1)) return v4(p[6], p[7]);
  return null;
}

/** The class of an address: null for public unicast, else why it is refused. */
export function classify(addr: ipaddr.IPv4 | ipaddr.IPv6): RefusalReason | null {
  const range = addr.range();
  if (range === 'unicast') return null;
  const reason = (addr.kind() === 'ipv4' ? V4_REASONS : V6_REASONS)[range];
  // Everything else (reserved, documentation, benchmarking, teredo, discard, AS112, ORCHID…)
  // is not a destination a VM has business with.
  return reason ?? 'reserved';
}

/**
 * Parses a rule list: comma or whitespace separated; each entry `CIDR`, `IP`, `IP:port`,
 * `CIDR:port` or `[IPv6]:port` / `[IPv6/len]:port`. Throws on a bad entry (config errors fail loudly).
 */
export function parseRules(text: string | undefined): NetRule[] {
  if (!text) return [];
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((entry) => {
      let spec = entry;
      let port: number | null = null;
      const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
      if (bracket) {
        spec = bracket[1];
        port = bracket[2] !== undefined ? Number(bracket[2]) : null;
      } else if ((entry.match(/:/g) ?? []).length === 1) {
        const i = entry.lastIndexOf(':');
        spec = entry.slice(0, i);
        port = Number(entry.slice(i + 1));
      }
      if (port !== null && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new Error(`bad port in network rule "${entry}"`);
      try {
        const range = spec.includes('/') ? ipaddr.parseCIDR(spec) : ((a) => [a, a.kind() === 'ipv4' ? 32 : 128] as [typeof a, number])(ipaddr.parse(spec));
        return { range, port };
      } catch {
        throw new Error(`bad address in network rule "${entry}" (want a CIDR, an IP, or either with :port)`);
      }
    });
}

function matches(rules: readonly NetRule[], addr: ipaddr.IPv4 | ipaddr.IPv6, effective: ipaddr.IPv4 | ipaddr.IPv6, port: number): boolean {
  return rules.some((r) => {
    if (r.port !== null && r.port !== port) return false;
    return [addr, effective].some((a) => a.kind() === r.range[0].kind() && a.match(r.range));
  });
}

export interface NetPolicyOptions {
  allow?: readonly NetRule[];
  deny?: readonly NetRule[];
  /** The server's own port, refused on its own addresses (loopback, unspecified, `selfAddresses`). */
  selfPort?: () => number | null;
  /** Addresses of this machine's interfaces (the server may listen on all of them). */
  selfAddresses?: () => readonly string[];
}

export class NetPolicy {
  constructor(private readonly opts: NetPolicyOptions = {}) {}

  /** Decides one destination, an IP literal in any spelling, and returns the address to dial. */
  check(host: string, port: number): Verdict {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, reason: 'bad_port' };
    const parsed = parseAddress(host);
    if (!parsed) return { ok: false, reason: 'bad_address' };
    const { addr, effective } = parsed;
    // Dial the embedded IPv4 when there is one: what we checked is what we connect to.
    const ip = effective.toString();
    const family = effective.kind() === 'ipv4' ? 4 : 6;
    if (this.isSelf(effective, port)) return { ok: false, reason: 'self', ip };
    if (matches(this.opts.deny ?? [], addr, effective, port)) return { ok: false, reason: 'denied', ip };
    if (matches(this.opts.allow ?? [], addr, effective, port)) return { ok: true, ip, family };
    if (port === SMTP_PORT) return { ok: false, reason: 'smtp', ip };
    // An embedded IPv4 decides alone: it is the address we dial.
    const reason = classify(effective);
    return reason ? { ok: false, reason, ip } : { ok: true, ip, family };
  }

  /**
   * Whether an address may appear in our DNS answers: the port-free part of `check` (rules with a
   * port still admit the address, since the CONNECT is checked again with its port).
   */
  addressAllowed(host: string): boolean {
    const parsed = parseAddress(host);
    if (!parsed) return false;
    const { addr, effective } = parsed;
    const portless = (this.opts.deny ?? []).filter((r) => r.port === null);
    if (matches(portless, addr, effective, 0)) return false;
    if ((this.opts.allow ?? []).some((r) => [addr, effective].some((a) => a.kind() === r.range[0].kind() && a.match(r.range)))) return true;
    return classify(effective) === null;
  }

  private isSelf(addr: ipaddr.IPv4 | ipaddr.IPv6, port: number): boolean {
    const selfPort = this.opts.selfPort?.();
    if (!selfPort || port !== selfPort) return false;
    const range = addr.range();
    if (range === 'loopback' || range === 'unspecified') return true;
    const s = addr.toNormalizedString();
    return (this.opts.selfAddresses?.() ?? []).some((a) => {
      const p = parseAddress(a);
      return !!p && p.effective.toNormalizedString() === s;
    });
  }
}
