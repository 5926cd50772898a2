import ipaddr from 'ipaddr.js';

/** The part of an address one client controls: IPv4 whole, IPv6 its /64 (IPv4-mapped forms as IPv4). */
export function clientPrefix(ip: string): string {
  try {
    const a = ipaddr.process(ip);
    if (a.kind() === 'ipv4') return a.toString();
    return (a as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16)).join(':') + '::/64';
  } catch {
    return ip;
  }
}
