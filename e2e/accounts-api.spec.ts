import { expect, test, type APIRequestContext } from '@playwright/test';

const KEY = process.env.E2E_API_KEY ?? 'e2e-api-key';
const PASSWORD = 'correct horse battery 9';

/** Signs up through our route and signs in through next-auth's real Credentials flow; the context keeps the cookie. */
async function signedIn(request: APIRequestContext, name: string): Promise<void> {
  const email = `${name.toLowerCase()}-${Date.now()}@example.com`;
  expect((await request.post('/api/account/signup', { data: { email, name, password: PASSWORD } })).status()).toBe(201);
  const { csrfToken } = (await (await request.get('/api/auth/csrf')).json()) as { csrfToken: string };
  const res = await request.post('/api/auth/callback/credentials', { form: { csrfToken, email, password: PASSWORD, callbackUrl: '/' }, maxRedirects: 0 });
  expect(res.status()).toBe(302);
  expect((await (await request.get('/api/me')).json()).user.name).toBe(name);
}

test('a per-user API token runs a command in a members-only room with no browser of ours open', async ({ playwright, baseURL }) => {
  const owner = await playwright.request.newContext({ baseURL });
  await signedIn(owner, 'Tokenowner');
  const room = (await (await owner.post('/api/me/rooms', { data: { name: 'token room' } })).json()).room.id as string;
  const made = await owner.post('/api/me/tokens', { data: { name: 'e2e' } });
  expect(made.status()).toBe(201);
  const { token } = (await made.json()) as { token: string };

  const anon = await playwright.request.newContext({ baseURL });
  const res = await anon.post(`/api/rooms/${room}/commands`, { data: { cmd: 'echo $((6*7))' }, headers: { authorization: `Bearer ${token}` }, timeout: 150_000 });
  let body = await res.json();
  while (body.status === 'pending' || body.status === 'running') {
    await new Promise((r) => setTimeout(r, 1000));
    body = await (await anon.get(`/api/rooms/${room}/commands/${body.id}`, { headers: { authorization: `Bearer ${token}` } })).json();
  }
  expect(body).toMatchObject({ state: 'done', exitCode: 0 });
  expect(body.output.trim()).toBe('42');
  // The same token reaches no room of anyone else's, and the room refuses people without access.
  expect((await anon.post('/api/rooms/default/commands?wait=false', { data: { cmd: 'true' }, headers: { authorization: 'Bearer tdm_' + 'x'.repeat(32) } })).status()).toBe(401);
  await owner.dispose();
  await anon.dispose();
});

test('an always-on room gets a VM without anyone opening it', async ({ playwright, baseURL }) => {
  const owner = await playwright.request.newContext({ baseURL });
  await signedIn(owner, 'Alwayson');
  const room = (await (await owner.post('/api/me/rooms', { data: { name: 'always on' } })).json()).room.id as string;
  const api = { headers: { authorization: `Bearer ${KEY}` } };
  expect((await (await owner.get(`/api/rooms/${room}`, api)).json()).room.hostConnected).toBe(false);
  const patched = await owner.patch(`/api/rooms/${room}`, { data: { alwaysOn: true } });
  expect((await patched.json()).room.alwaysOn).toBe(true);
  await expect.poll(async () => (await (await owner.get(`/api/rooms/${room}`, api)).json()).room.hostConnected, { timeout: 120_000 }).toBe(true);
  await owner.patch(`/api/rooms/${room}`, { data: { alwaysOn: false } });
  await owner.dispose();
});
