import { describe, expect, it } from 'vitest';
import * as dnsPacket from 'dns-packet';
import { decodeAnswer, dnsQuery } from '../testing/dns';
import { DohResolver, hostsLookup, parseHosts, type AddressLookup } from './DohResolver';
import { NetPolicy, parseRules } from './NetPolicy';

const query = (name: string, type: 'A' | 'AAAA' | 'TXT' = 'A', id = 42) => dnsQuery(name, type, id);

function resolverWith(table: Record<string, string[]>, policy = new NetPolicy()) {
  const calls: string[] = [];
  const lookup: AddressLookup = async (name, family) => {
    calls.push(`${family}:${name}`);
    if (name === 'broken.test') throw new Error('resolver down');
    return (table[name] ?? []).filter((a) => (a.includes(':') ? 6 : 4) === family).map((address) => ({ address, ttl: 300 }));
  };
  let now = 1_000_000;
  const r = new DohResolver({ lookup, policy, now: () => now });
  return { r, calls, tick: (ms: number) => (now += ms) };
}

describe('DohResolver (injected resolver, no network)', () => {
  it('answers A with the id and question of the query', async () => {
    const { r } = resolverWith({ 'pub.test': ['93.184.216.34'] });
    const { body, ttl } = await r.answer(query('pub.test', 'A', 77));
    const a = decodeAnswer(body);
    expect(a).toMatchObject({ id: 77, type: 'response', rcode: 'NOERROR', flag_rd: true, flag_ra: true });
    expect(a.answers).toEqual([expect.objectContaining({ type: 'A', name: 'pub.test', data: '93.184.216.34', ttl: 300 })]);
    expect(ttl).toBe(300);
    expect(r.nameOf('93.184.216.34')).toBe('pub.test');
  });

  it('drops addresses in refused ranges and refuses names that only point inside (rebinding)', async () => {
    const { r } = resolverWith({ 'mixed.test': ['10.0.0.1', '93.184.216.34', '127.0.0.1'], 'inside.test': ['127.0.0.1', '169.254.169.254'], 'v6.test': ['::1', '2606:4700::1'] });
    const mixed = decodeAnswer((await r.answer(query('mixed.test'))).body);
    expect(mixed.answers.map((a) => a.data)).toEqual(['93.184.216.34']);
    const inside = decodeAnswer((await r.answer(query('inside.test'))).body);
    expect(inside.rcode).toBe('REFUSED');
    expect(inside.answers).toEqual([]);
    const v6 = decodeAnswer((await r.answer(query('v6.test', 'AAAA'))).body);
    expect(v6.answers.map((a) => a.data)).toEqual(['2606:4700::1']);
    expect(r.stats.refusedAnswers).toBe(1);
  });

  it('keeps addresses NET_ALLOW opens (any port: the CONNECT is checked with its port)', async () => {
    const { r } = resolverWith({ 'lab.test': ['10.213.7.2'] }, new NetPolicy({ allow: parseRules('10.213.7.2:8080') }));
    const a = decodeAnswer((await r.answer(query('lab.test'))).body);
    expect(a.answers.map((x) => x.data)).toEqual(['10.213.7.2']);
  });

  it('says NXDOMAIN for unknown names, SERVFAIL when the resolver fails, empty NOERROR for other types', async () => {
    const { r } = resolverWith({});
    expect(decodeAnswer((await r.answer(query('nope.test'))).body).rcode).toBe('NXDOMAIN');
    expect(decodeAnswer((await r.answer(query('broken.test'))).body).rcode).toBe('SERVFAIL');
    const txt = decodeAnswer((await r.answer(query('pub.test', 'TXT'))).body);
    expect(txt.rcode).toBe('NOERROR');
    expect(txt.answers).toEqual([]);
  });

  it('caches by TTL (clamped) and asks again after it expires', async () => {
    const { r, calls, tick } = resolverWith({ 'pub.test': ['93.184.216.34'] });
    await r.answer(query('pub.test'));
    await r.answer(query('PUB.test.'));
    expect(calls).toEqual(['4:pub.test']);
    tick(299_000);
    expect((await r.answer(query('pub.test'))).ttl).toBe(1);
    tick(2_000);
    await r.answer(query('pub.test'));
    expect(calls).toEqual(['4:pub.test', '4:pub.test']);
  });

  it.each([
    ['garbage', Buffer.from('not dns at all')],
    ['empty', Buffer.alloc(0)],
    ['a response', dnsPacket.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'x.test' }] })],
    ['two questions', dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'a.test' }, { type: 'A', name: 'b.test' }] })],
  ])('refuses %s and counts it', async (_name, msg) => {
    const { r } = resolverWith({});
    await expect(r.answer(msg)).rejects.toThrow();
    expect(r.stats.malformed).toBe(1);
  });
});

describe('NET_HOSTS', () => {
  it('answers static names before the fallback, and only them without one', async () => {
    const hosts = parseHosts('lab.test=10.213.7.2, dual.test=10.0.0.1|fd00::1');
    const only = hostsLookup(hosts, null);
    expect(await only('LAB.test.', 4)).toEqual([{ address: '10.213.7.2', ttl: 30 }]);
    expect(await only('dual.test', 6)).toEqual([{ address: 'fd00::1', ttl: 30 }]);
    expect(await only('example.com', 4)).toEqual([]);
    const withFallback = hostsLookup(hosts, async () => [{ address: '93.184.216.34', ttl: 60 }]);
    expect(await withFallback('example.com', 4)).toEqual([{ address: '93.184.216.34', ttl: 60 }]);
  });

  it('rejects a bad entry', () => {
    expect(() => parseHosts('justaname')).toThrow(/NET_HOSTS/);
  });
});
