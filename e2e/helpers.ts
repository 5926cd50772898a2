import { expect, type APIRequestContext, type Page } from '@playwright/test';

/** The visible terminal (the active tab) of a room page. */
export const activeTerm = (page: Page) => page.locator('.term:not([hidden])');

/** Text of the visible terminal as rendered (xterm's DOM renderer), one line per row. */
export async function screen(page: Page): Promise<string> {
  return activeTerm(page).locator('.xterm-rows').innerText();
}

/** Creates a room through the real form endpoint; returns its path, /r/<id>. */
export async function newRoom(request: APIRequestContext, name: string): Promise<string> {
  const res = await request.post('/rooms/new', { form: { name }, maxRedirects: 0 });
  expect(res.status()).toBe(303);
  return new URL(res.headers().location, 'http://x').pathname;
}

export async function waitForPrompt(page: Page) {
  await expect(page.locator('main.room')).toHaveAttribute('data-phase', 'ready', { timeout: 120_000 });
  await expect.poll(() => screen(page), { timeout: 30_000 }).toMatch(/user@tandem:~\$/);
}

/** Types a command line into the visible terminal of `page` and presses Enter. */
export async function typeLine(page: Page, line: string) {
  await activeTerm(page).locator('.xterm').click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}
