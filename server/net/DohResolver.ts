import dns from 'node:dns';
import * as dnsPacket from 'dns-packet';
import type { NetPolicy } from './NetPolicy';

/** Resolves one name to addresses with their TTLs (seconds); [] when the name has none. */
export type AddressLookup = (name: string, family: 4 | 6) => Promise<{ address: string; ttl: number }[]>;

/** A DNS query over HTTPS is a few dozen bytes; anything near this is not one. */
export const MAX_DOH_QUERY_BYTES = 1024;
export const MIN_DNS_TTL_S = 30;
export const MAX_DNS_TTL_S = 3600;
/** Answers (and failures) kept; the oldest is dropped beyond it. */
export const MAX_DNS_CACHE_ENTRIES = 10_000;
/** Addresses remembered with the name they answered, for the audit's "name" column. */
const MAX_NAMES_REMEMBERED = 10_000;
const NEGATIVE_TTL_S = 30;

type Rcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED' | 'SERVFAIL' | 'FORMERR' | 'NOTIMP';
interface Cached {
  rcode: Rcode;
  answers: { address: string; ttl: number }[];
  expiresAt: number;
}

/** The system resolver (what the server's own /etc/resolv.conf says). */
export const systemLookup: AddressLookup = async (name, family) => {
  try {
    const r = family === 4 ? await dns.promises.resolve4(name, { ttl: true }) : await dns.promises.resolve6(name, { ttl: true });
    return r.map((a) => ({ address: a.address, ttl: a.ttl }));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
    throw e;
  }
};

/**
 * Static names first (`NET_HOSTS`, like /etc/hosts), then `fallback` (the system resolver, or
 * nothing: tests resolve only the names they set up).
 */
export function hostsLookup(hosts: ReadonlyMap<string, string[]>, fallback: AddressLookup | null): AddressLookup {
  return async (name, family) => {
    const fixed = hosts.get(name.toLowerCase().replace(/\.$/, ''));
    if (fixed) return fixed.filter((a) => (a.includes(':') ? 6 : 4) === family).map((address) => ({ address, ttl: MIN_DNS_TTL_S }));
    return fallback ? fallback(name, family) : [];
  };
}

/** `name=ip[|ip…]` entries, comma separated. */
export function parseHosts(text: string | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const entry of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, ips] = entry.split('=');
    if (!name || !ips) throw new Error(`bad NET_HOSTS entry "${entry}" (want name=ip)`);
    out.set(name.toLowerCase(), ips.split('|'));
  }
  return out;
}

/**
 * Answers RFC 8484 DNS messages for the VMs (v86 asks DNS over HTTPS): A and AAAA through
 * `lookup`, cached by TTL, with every address our policy would refuse dropped (a name that only
 * points inside is answered REFUSED, so `curl` fails at once and a rebinding answer never
 * arrives). Other query types get an empty answer. Transport-free: bytes in, bytes out.
 */
export class DohResolver {
  private cache = new Map<string, Cached>();
  private names = new Map<string, string>();
  readonly stats = { queries: 0, refusedAnswers: 0, malformed: 0 };

  constructor(private opts: { lookup: AddressLookup; policy: NetPolicy; now?: () => number }) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** The name our DNS last answered with this address, if any. */
  nameOf(ip: string): string | null {
    return this.names.get(ip) ?? null;
  }

  /** Throws on a message that is not one DNS query (the caller answers 400). */
  async answer(message: Buffer): Promise<{ body: Buffer; ttl: number }> {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(message);
    } catch {
      this.stats.malformed++;
      throw new Error('not a DNS message');
    }
    if (q.type !== 'query' || (q.questions?.length ?? 0) !== 1) {
      this.stats.malformed++;
      throw new Error('want exactly one question');
    }
    this.stats.queries++;
    const question = q.questions![0];
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const family = question.type === 'A' ? 4 : question.type === 'AAAA' ? 6 : null;
    const result: Cached = family === null ? { rcode: 'NOERROR', answers: [], expiresAt: 0 } : await this.resolve(name, family);
    const ttl = Math.max(0, Math.ceil((result.expiresAt - this.now()) / 1000));
    const body = dnsPacket.encode({
      type: 'response',
      id: q.id ?? 0,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcodeBits(result.rcode),
      questions: [question],
      answers: result.answers.map((a) => ({ type: question.type as 'A' | 'AAAA', name: question.name, ttl: Math.min(a.ttl, ttl || a.ttl), data: a.address })),
    });
    return { body, ttl };
  }

  private async resolve(name: string, family: 4 | 6): Promise<Cached> {
    const key = `${family}:${name}`;
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > this.now()) return hit;
    let entry: Cached;
    try {
      const all = name.length > 253 ? [] : await this.opts.lookup(name, family);
      const kept = all.filter((a) => this.opts.policy.addressAllowed(a.address));
      const ttl = clamp(Math.min(...kept.map((a) => a.ttl), MAX_DNS_TTL_S));
      if (all.length && !kept.length) this.stats.refusedAnswers++;
      entry = {
        rcode: all.length === 0 ? 'NXDOMAIN' : kept.length ? 'NOERROR' : 'REFUSED',
        answers: kept.map((a) => ({ address: a.address, ttl })),
        expiresAt: this.now() + (kept.length ? ttl : NEGATIVE_TTL_S) * 1000,
      };
    } catch {
      entry = { rcode: 'SERVFAIL', answers: [], expiresAt: this.now() + NEGATIVE_TTL_S * 1000 };
    }
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size > MAX_DNS_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    for (const a of entry.answers) {
      this.names.delete(a.address);
      this.names.set(a.address, name);
      if (this.names.size > MAX_NAMES_REMEMBERED) this.names.delete(this.names.keys().next().value!);
    }
    return entry;
  }
}

function clamp(ttl: number): number {
  return Math.max(MIN_DNS_TTL_S, Math.min(MAX_DNS_TTL_S, Math.floor(ttl)));
}

const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
function rcodeBits(rcode: Rcode): number {
  return RCODES[rcode];
}
