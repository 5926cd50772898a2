import { expect, test, type APIRequestContext } from '@playwright/test';
import { screen } from './helpers';

const KEY = process.env.E2E_API_KEY ?? 'e2e-api-key';

async function newRoom(request: APIRequestContext, name: string): Promise<string> {
  const res = await request.post('/rooms/new', { form: { name }, maxRedirects: 0 });
  return res.headers().location.split('/').pop()!;
}

type Result = { id: string; status: string; state: string; exitCode: number | null; output: string };

/** POST /api and, if the wait ran out (202), poll until the command finished. */
async function run(request: APIRequestContext, room: string, cmd: string, timeoutMs?: number): Promise<Result> {
  const res = await request.post(`/api?api_key=${KEY}`, { data: { cmd, room, timeoutMs }, timeout: 130_000 });
  expect([200, 202]).toContain(res.status());
  let body = (await res.json()) as Result;
  while (body.status === 'pending' || body.status === 'running') {
    await new Promise((r) => setTimeout(r, 1000));
    body = (await (await request.get(`/api/commands/${body.id}?api_key=${KEY}`)).json()) as Result;
  }
  return body;
}

test('the command API runs commands in a real VM hosted by the server’s headless browser', async ({ request, browser }) => {
  const room = await newRoom(request, 'api e2e');
  // No browser of ours is open: the server starts its headless host for the command.
  const first = await run(request, room, 'echo $((6*7))');
  expect(first).toMatchObject({ status: 'completed', state: 'done', exitCode: 0 });
  expect(first.output.trim()).toBe('42');

  const failing = await run(request, room, "sh -c 'exit 3'");
  expect(failing).toMatchObject({ status: 'error', exitCode: 3 });

  // A guest watching the room sees the command typed and its output.
  const ctx = await browser.newContext();
  const guest = await ctx.newPage();
  await guest.goto(`/r/${room}?watch=1`);
  await expect(guest.locator('main.room')).toHaveAttribute('data-seat', 'guest');
  const third = run(request, room, 'echo from-the-api-$((20+22))');
  await expect.poll(() => screen(guest), { timeout: 60_000 }).toMatch(/^from-the-api-42\s*$/m);
  await expect.poll(() => screen(guest)).toContain('echo from-the-api-$((20+22))');
  expect((await third).exitCode).toBe(0);
  await ctx.close();
});

test('a command that runs longer than the headless host’s idle time is not cut off', async ({ request }) => {
  // The e2e server closes idle headless hosts after 20 s (playwright.config.ts); this command runs 30.
  const room = await newRoom(request, 'api long command');
  const long = await run(request, room, 'sleep 30; echo long-$((6*7))', 120_000);
  expect(long).toMatchObject({ state: 'done', exitCode: 0 });
  expect(long.output.trim()).toBe('long-42');
});

test('the command API refuses wrong keys with JSON errors', async ({ request }) => {
  const res = await request.post('/api?api_key=wrong', { data: { cmd: 'true' } });
  expect(res.status()).toBe(401);
  expect((await res.json()).error.code).toBe('UNAUTHORIZED');
});
