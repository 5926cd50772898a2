import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startServer } from '../testing/startServer';
import { call, type Json } from '../testing/http';
import { as, signUp } from '../testing/accounts';
import { finishedCommandSchema, pendingCommandSchema } from '../commands/apiSchemas';
import { accountDocs } from '../accounts/accountDocs';

const KEY = 'test-key-openapi-0123';
let srv: Awaited<ReturnType<typeof startServer>>;
let doc: Json;
beforeAll(async () => {
  srv = await startServer({ API_KEY: KEY });
  doc = (await call(srv, '/api/openapi.json')).json;
});
afterAll(async () => {
  await srv?.close();
});

/** The request body schema the served document gives for an operation, with its $refs resolved, as a validator. */
function documentedBody(path: string, method: string): z.ZodType {
  let schema = doc.paths[path][method].requestBody.content['application/json'].schema;
  if (schema.$ref) schema = doc.components.schemas[schema.$ref.split('/').pop()];
  return z.fromJSONSchema(schema);
}

describe('GET /api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document, every $ref resolving', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // The validator is not a rubber stamp: a response without its description is refused.
    const broken = structuredClone(doc);
    delete broken.paths['/api/me'].get.responses['200'].description;
    expect((await new Validator().validate(broken)).valid).toBe(false);
    const text = JSON.stringify(doc);
    for (const [, ref] of text.matchAll(/"\$ref":"#\/([^"]+)"/g)) {
      const node = ref.split('/').reduce<Json>((n, k) => n?.[k], doc);
      expect(node, ref).toBeDefined();
    }
  });

  it('covers rooms, members, invites, tokens, accounts, commands, the network and recordings', () => {
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api',
      '/api/commands/batch',
      '/api/rooms/{id}',
      '/api/me/rooms',
      '/api/rooms/{id}/members/{memberId}',
      '/api/rooms/{id}/invites',
      '/api/invites/{token}/redeem',
      '/api/me/tokens',
      '/api/account/signup',
      '/api/rooms/{id}/net',
      '/api/rooms/{id}/internet',
      '/api/gateway',
      '/dns-query',
      '/api/rooms/{id}/recordings/{tab}/seek',
    ])
      expect(paths).toContain(p);
    // The room's Internet switch is part of PATCH /api/rooms/{id}.
    expect(documentedBody('/api/rooms/{id}', 'patch').safeParse({ internet: false }).success).toBe(true);
  });

  it("the documented request bodies accept exactly what the server accepts (a 400 is the server's no)", async () => {
    const owner = await signUp(srv, 'Oona Openapi');
    const room = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Docs' } })).json.room.id;
    const cases: { path: string; method: string; url: string; bodies: Json[] }[] = [
      { path: '/api/rooms/{id}/invites', method: 'post', url: `/api/rooms/${room}/invites`, bodies: [{ role: 'driver' }, { maxUses: null }, { role: 'god' }, { ttlMs: 'soon' }, { bogus: 1 }] },
      { path: '/api/rooms/{id}', method: 'patch', url: `/api/rooms/${room}`, bodies: [{ name: 'Renamed' }, { internet: null }, { internet: 'yes' }, { archived: 1 }, { bogus: true }] },
      { path: '/api/me/rooms', method: 'post', url: '/api/me/rooms', bodies: [{ name: 'Two', guest: 'small' }, { name: 'Three', engine: 'qemu' }, {}] },
      { path: '/api/me/tokens', method: 'post', url: '/api/me/tokens', bodies: [{ name: 'ci' }, {}, { name: 42 }] },
    ];
    for (const c of cases) {
      const documented = documentedBody(c.path, c.method);
      for (const body of c.bodies) {
        const r = await as(srv, owner.cookie, c.url, { method: c.method.toUpperCase(), json: body });
        expect(r.status, `${c.method} ${c.url} ${JSON.stringify(body)}: ${r.text}`).not.toBe(500);
        expect(r.status !== 400, `${c.method} ${c.url} ${JSON.stringify(body)}: ${r.text}`).toBe(documented.safeParse(body).success);
      }
    }
    // The command API's batch, with its key.
    const batch = documentedBody('/api/commands/batch', 'post');
    for (const body of [{ rooms: ['default'], cmd: 'echo hi', wait: false }, { rooms: [], cmd: 'x' }, { cmd: 'x' }, { rooms: ['default'], cmd: 'x', timeoutMs: 'soon' }]) {
      const r = await call(srv, `/api/commands/batch?api_key=${KEY}`, { method: 'POST', json: body });
      expect(r.status !== 400, `${JSON.stringify(body)}: ${r.text}`).toBe(batch.safeParse(body).success);
    }
  });

  it('the documented answers are what the server sends', async () => {
    const owner = await signUp(srv, 'Ari Answers');
    const created = await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Answers' } });
    expect(accountDocs.createRoom.responses[201].schema.parse(created.json)).toBeTruthy();
    const mine = await as(srv, owner.cookie, '/api/me/rooms');
    expect(accountDocs.myRooms.responses[200].schema.parse(mine.json)).toBeTruthy();
    const inv = await as(srv, owner.cookie, `/api/rooms/${created.json.room.id}/invites`, { method: 'POST', json: { role: 'viewer' } });
    expect(accountDocs.createInvite.responses[201].schema.parse(inv.json)).toBeTruthy();
    const members = await as(srv, owner.cookie, `/api/rooms/${created.json.room.id}/members`);
    expect(accountDocs.members.responses[200].schema.parse(members.json)).toBeTruthy();
    const queued = await call(srv, `/api?api_key=${KEY}&wait=false`, { method: 'POST', json: { cmd: 'echo answered' } });
    expect(queued.status).toBe(202);
    expect(pendingCommandSchema.parse(queued.json)).toBeTruthy();
    const cancelled = await call(srv, `/api/commands/${queued.json.id}?api_key=${KEY}`, { method: 'DELETE' });
    expect(finishedCommandSchema.parse(cancelled.json)).toMatchObject({ state: 'cancelled' });
  });
});
