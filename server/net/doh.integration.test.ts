import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAnswer, dnsQuery } from '../testing/dns';
import { startServer } from '../testing/startServer';
import { MAX_DOH_QUERY_BYTES } from './DohResolver';

let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  // The resolver is NET_HOSTS only: no query leaves this machine.
  srv = await startServer({ NET_RESOLVER: 'hosts', NET_HOSTS: 'lab.test=10.213.7.2,pub.test=93.184.216.34,inside.test=127.0.0.1', NET_ALLOW: '10.213.7.2' });
});
afterAll(() => srv.close());

const query = (name: string, id = 1) => dnsQuery(name, 'A', id);
const post = (body: Buffer | Uint8Array, type = 'application/dns-message') => fetch(`${srv.url}/dns-query`, { method: 'POST', headers: { 'content-type': type }, body: new Blob([new Uint8Array(body)]) });

describe('DNS over HTTPS at /dns-query (RFC 8484)', () => {
  it('answers POST and GET with the names it knows, and drops refused ranges', async () => {
    const r = await post(query('pub.test', 9));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/dns-message');
    const a = decodeAnswer(Buffer.from(await r.arrayBuffer()));
    expect(a).toMatchObject({ id: 9, rcode: 'NOERROR' });
    expect(a.answers.map((x) => x.data)).toEqual(['93.184.216.34']);

    const g = await fetch(`${srv.url}/dns-query?dns=${query('lab.test').toString('base64url')}`);
    expect(decodeAnswer(Buffer.from(await g.arrayBuffer())).answers.map((x) => x.data)).toEqual(['10.213.7.2']);

    const inside = decodeAnswer(Buffer.from(await (await post(query('inside.test'))).arrayBuffer()));
    expect(inside.rcode).toBe('REFUSED');
    const unknown = decodeAnswer(Buffer.from(await (await post(query('nowhere.test'))).arrayBuffer()));
    expect(unknown.rcode).toBe('NXDOMAIN');
  });

  it('refuses oversize, malformed and mistyped queries with named errors, and counts them', async () => {
    const before = { ...srv.server.net.counters };
    const big = await post(new Uint8Array(MAX_DOH_QUERY_BYTES + 1));
    expect(big.status).toBe(413);
    expect((await big.json()).error.code).toBe('TOO_LARGE');
    const bigGet = await fetch(`${srv.url}/dns-query?dns=${'A'.repeat(2000)}`);
    expect(bigGet.status).toBe(413);
    const junk = await post(new Uint8Array([1, 2, 3]));
    expect(junk.status).toBe(400);
    expect((await junk.json()).error.code).toBe('BAD_MESSAGE');
    expect((await post(query('pub.test'), 'text/plain')).status).toBe(415);
    expect((await fetch(`${srv.url}/dns-query`, { method: 'PUT' })).status).toBe(405);
    expect((await fetch(`${srv.url}/dns-query?dns=***`)).status).toBe(400);
    expect(srv.server.net.counters.dohOversize - before.dohOversize).toBe(2);
    expect(srv.server.net.counters.dohMalformed - before.dohMalformed).toBe(1);
    // Still answering.
    expect((await post(query('pub.test'))).status).toBe(200);
  });
});

describe("the room's own DNS at /net/<token>/dns-query", () => {
  it("answers like /dns-query while the room's Internet is on, REFUSED once it is off, 401 without a valid token", async () => {
    const room = srv.server.rooms.create('dns room').id;
    const token = srv.server.net.hub.issueToken(room, 'tab-1');
    const ask = async () => decodeAnswer(Buffer.from(await (await fetch(`${srv.url}/net/${token}/dns-query`, { method: 'POST', headers: { 'content-type': 'application/dns-message' }, body: new Blob([new Uint8Array(query('pub.test'))]) })).arrayBuffer()));
    expect((await ask()).answers.map((a) => a.data)).toEqual(['93.184.216.34']);
    srv.server.rooms.update(room, { internet: false });
    expect((await ask()).rcode).toBe('REFUSED');
    // …and says why beside the answer, for the host page to show.
    const r = await fetch(`${srv.url}/net/${token}/dns-query?dns=${query('pub.test').toString('base64url')}`);
    expect(decodeURIComponent(r.headers.get('x-tandem-refused') ?? '')).toBe("the room's Internet is turned off (the owner's switch)");
    expect((await post(query('pub.test'))).status).toBe(200);
    expect((await fetch(`${srv.url}/net/forged/dns-query?dns=${query('pub.test').toString('base64url')}`)).status).toBe(401);
  });
});
