import { describe, expect, it } from 'vitest';
import { NetPolicy, parseRules, type RefusalReason } from './NetPolicy';

const policy = new NetPolicy();
const refusal = (host: string, port = 80, p = policy) => {
  const v = p.check(host, port);
  return v.ok ? null : v.reason;
};

describe('NetPolicy: ranges (no connection is made)', () => {
  const refused: [string, RefusalReason][] = [
    ['127.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['2130706433', 'loopback'],
    ['017700000001', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['::7f00:1', 'loopback'], // IPv4-compatible (ipaddr.js calls it unicast)
    ['::127.0.0.1', 'loopback'],
    ['::ffff:0:7f00:1', 'loopback'], // SIIT
    ['64:ff9b::7f00:1', 'loopback'], // NAT64
    ['64:ff9b:1::7f00:1', 'loopback'], // local-use NAT64
    ['2002:7f00:1::', 'loopback'], // 6to4
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['::', 'unspecified'],
    ['[::]', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['::ffff:192.168.1.1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:c0a8:101::1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['fe80::1', 'link_local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456::1', 'unique_local'],
    ['fec0::1', 'unique_local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'], // Teredo: the real endpoint is hidden
    ['100::1', 'reserved'],
  ];
  it.each(refused)('%s is refused as %s', (host, reason) => {
    expect(refusal(host)).toBe(reason);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700::1111', '[2606:4700::1111]', '::ffff:8.8.8.8'])('%s (public unicast) passes', (host) => {
    expect(policy.check(host, 443)).toMatchObject({ ok: true });
  });

  it('dials the checked address, never the spelling it was given', () => {
    expect(policy.check('::ffff:8.8.8.8', 443)).toEqual({ ok: true, ip: '8.8.8.8', family: 4 });
    expect(policy.check('134744072', 443)).toEqual({ ok: true, ip: '8.8.8.8', family: 4 });
  });

  it.each(['localhost', 'example.com', '', '1.2.3.4.5', '::g', 'fe80::1%eth0', '[::1', '127.0.0.1 '.repeat(3)])('%j is not an address', (host) => {
    expect(refusal(host)).toBe('bad_address');
  });

  it.each([0, -1, 65536, 1.5, NaN])('port %s is refused', (port) => {
    expect(refusal('8.8.8.8', port)).toBe('bad_port');
  });

  it('closes outbound SMTP by default', () => {
    expect(refusal('8.8.8.8', 25)).toBe('smtp');
    expect(refusal('8.8.8.8', 587)).toBeNull();
  });
});

describe('NetPolicy: NET_ALLOW, NET_DENY and the server itself', () => {
  it('NET_ALLOW opens one loopback port and nothing else', () => {
    const p = new NetPolicy({ allow: parseRules('127.0.0.1:8080') });
    expect(refusal('127.0.0.1', 8080, p)).toBeNull();
    expect(refusal('127.1', 8080, p)).toBeNull();
    expect(refusal('127.0.0.1', 8081, p)).toBe('loopback');
    expect(refusal('127.0.0.2', 8080, p)).toBe('loopback');
  });

  it('NET_ALLOW opens a LAN range on every port, NET_DENY wins over it and over public', () => {
    const p = new NetPolicy({ allow: parseRules('10.1.0.0/16, 192.168.0.0/24:22'), deny: parseRules('10.1.2.0/24 1.1.1.1 [2606:4700::/32]:443') });
    expect(refusal('10.1.3.4', 5432, p)).toBeNull();
    expect(refusal('::ffff:10.1.3.4', 5432, p)).toBeNull();
    expect(refusal('10.1.2.3', 5432, p)).toBe('denied');
    expect(refusal('192.168.0.7', 22, p)).toBeNull();
    expect(refusal('192.168.0.7', 80, p)).toBe('private');
    expect(refusal('1.1.1.1', 443, p)).toBe('denied');
    expect(refusal('::ffff:1.1.1.1', 443, p)).toBe('denied');
    expect(refusal('2606:4700::1111', 443, p)).toBe('denied');
    expect(refusal('2606:4700::1111', 80, p)).toBeNull();
  });

  it('NET_ALLOW can open SMTP to one relay', () => {
    const p = new NetPolicy({ allow: parseRules('203.0.113.5:25') });
    expect(refusal('203.0.113.5', 25, p)).toBeNull();
    expect(refusal('8.8.8.8', 25, p)).toBe('smtp');
  });

  it("refuses the server's own port on its own addresses, even when NET_ALLOW opens them", () => {
    const p = new NetPolicy({ allow: parseRules('127.0.0.0/8, 10.0.0.0/8'), selfPort: () => 3000, selfAddresses: () => ['10.0.0.5'] });
    for (const host of ['127.0.0.1', '127.1', '::ffff:7f00:1', '0.0.0.0', '[::]', '::1', '10.0.0.5', '::ffff:10.0.0.5']) expect(refusal(host, 3000, p)).toBe('self');
    expect(refusal('127.0.0.1', 3001, p)).toBeNull();
    expect(refusal('10.0.0.6', 3000, p)).toBeNull();
  });

  it.each(['10.0.0.0/33', 'nope', '1.2.3.4:0', '1.2.3.4:70000', '[::1]:x'])('rejects the bad rule %j', (rule) => {
    expect(() => parseRules(rule)).toThrow(/network rule/);
  });

  it('parses an empty list', () => {
    expect(parseRules(undefined)).toEqual([]);
    expect(parseRules(' , ')).toEqual([]);
  });
});
