import { expect, type APIRequestContext, type Browser } from '@playwright/test';
import { newRoom, waitForPrompt } from './helpers';

const KEY = process.env.E2E_API_KEY ?? 'e2e-api-key';

/** A new room, hosted (at its prompt) in one browser and watched as a guest in another. */
export async function hostAndGuest(browser: Browser, request: APIRequestContext, name: string) {
  const roomPath = await newRoom(request, name);
  const [hostCtx, guestCtx] = [await browser.newContext(), await browser.newContext()];
  const host = await hostCtx.newPage();
  await host.goto(roomPath);
  await waitForPrompt(host);
  const guest = await guestCtx.newPage();
  await guest.goto(roomPath);
  await expect(guest.locator('main.room')).toHaveAttribute('data-seat', 'guest');
  return { roomPath, room: roomPath.split('/').pop()!, host, guest, hostCtx, guestCtx };
}

/** Queues `cmd` in the room through the command API and waits until it is done; its output. */
export async function runQueued(request: APIRequestContext, room: string, cmd: string): Promise<string> {
  const queued = await request.post(`/api/rooms/${room}/commands?wait=false`, { headers: { authorization: `Bearer ${KEY}` }, data: { cmd, timeoutMs: 120_000 } });
  expect(queued.status(), await queued.text()).toBe(202);
  const { id } = (await queued.json()) as { id: string };
  let result: { state: string; output: string } = { state: 'queued', output: '' };
  await expect
    .poll(
      async () => {
        const r = await request.get(`/api/rooms/${room}/commands/${id}?wait=true&waitMs=20000`, { headers: { authorization: `Bearer ${KEY}` } });
        result = (await r.json()) as typeof result;
        return result.state;
      },
      { timeout: 150_000 },
    )
    .toBe('done');
  return result.output;
}

/** When the room's newest state on the server was made (0: none), as the page `p` may read it. */
export async function latestStateAt(p: { request: APIRequestContext }, room: string): Promise<number> {
  const r = await p.request.get(`/api/rooms/${room}/state`);
  return r.status() === 200 ? ((await r.json()) as { createdAt: number }).createdAt : 0;
}
