import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';

/** The address a request came from, as the per-address limits key it. */
export type ClientAddressOf = (req: IncomingMessage) => string;

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Parses TRUST_PROXY: the reverse proxies (addresses or CIDRs, comma separated) whose
 * X-Forwarded-For the server believes. Throws on a bad entry, so a typo fails at start and does
 * not silently trust nobody (or everybody).
 */
export function parseTrustedProxies(spec: string | undefined): Range[] {
  return (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      if (s.includes('/')) {
        const [a, bits] = ipaddr.parseCIDR(s);
        const v6 = a as ipaddr.IPv6;
        return (a.kind() === 'ipv6' && v6.isIPv4MappedAddress() ? [v6.toIPv4Address(), bits - 96] : [a, bits]) as Range;
      }
      const a = ipaddr.process(s);
      return [a, a.kind() === 'ipv4' ? 32 : 128] as Range;
    });
}

function normalize(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const h = ip.trim().replace(/^\[(.*)\]$/, '$1');
  // An IPv4 with a port (some proxies append it); IPv6 ports only come bracketed, handled above.
  const v4port = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(h);
  const bare = v4port ? v4port[1]! : h;
  return ipaddr.isValid(bare) ? ipaddr.process(bare) : null;
}

/**
 * The client's address: the socket's peer, or — when that peer is a trusted proxy — the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy. Entries left of it were
 * written by the client and prove nothing, so a client cannot pick its own address (and so
 * escape a per-address limit) by sending the header itself. With no proxies trusted (the
 * default) the header is ignored.
 */
export function clientAddressOf(trusted: Range[]): ClientAddressOf {
  const isTrusted = (a: ipaddr.IPv4 | ipaddr.IPv6) => trusted.some(([net, bits]) => net.kind() === a.kind() && a.match(net, bits));
  return (req) => {
    const peer = req.socket.remoteAddress;
    let current = peer ? normalize(peer) : null;
    if (!current) return peer ?? 'unknown';
    if (!trusted.length) return current.toString();
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').filter((s) => s.trim());
    while (isTrusted(current) && hops.length) {
      const next = normalize(hops.pop()!);
      if (!next) break; // junk in the header: stop at the last address we could read
      current = next;
    }
    return current.toString();
  };
}
