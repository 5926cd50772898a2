import { expect, type APIRequestContext, type Page } from '@playwright/test';

/** The visible terminal (the active tab) of a room page. */
export const activeTerm = (page: Page) => page.locator('.term:not([hidden])');

/** Text of the visible terminal as rendered (xterm's DOM renderer), one line per row. */
export async function screen(page: Page): Promise<string> {
  return activeTerm(page).locator('.xterm-rows').innerText();
}

/**
 * The room page's top-bar menu (Save VM, Reset VM…, Previous/Next command, New room, Leave room,
 * account…), opened if it is closed.
 */
export async function roomMenu(page: Page) {
  const button = page.locator('.topbar').getByRole('button', { name: 'Menu' });
  // A click before the page has hydrated is lost: click until the menu says it is open.
  await expect(async () => {
    if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
    await expect(button).toHaveAttribute('aria-expanded', 'true', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  return page.getByRole('group', { name: 'Menu' });
}

/** Counts the keystroke frames (`term:in`) a page sends over its Socket.IO connection. */
export function countKeystrokeFrames(page: Page): { n: number } {
  const c = { n: 0 };
  page.on('websocket', (ws) => ws.on('framesent', (f) => void (String(f.payload).includes('"term:in"') && c.n++)));
  return c;
}

/** Creates a room through the real form endpoint (`small`: the BusyBox guest); returns its path, /r/<id>. */
export async function newRoom(request: APIRequestContext, name: string, guest?: 'small'): Promise<string> {
  const res = await request.post('/rooms/new', { form: guest ? { name, guest } : { name }, maxRedirects: 0 });
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

/**
 * Whether the host page has saved its VM for `roomPath` in IndexedDB (lib/browser/vm/snapshotStore.ts): the
 * bundled guest's snapshot right after boot, the Debian disk's once disk and terminal are quiet.
 */
export async function hasSavedVm(page: Page, roomPath: string): Promise<boolean> {
  const room = roomPath.split('/').pop() ?? '';
  return page.evaluate(
    (room) =>
      new Promise<boolean>((resolve) => {
        const req = indexedDB.open('tandem');
        req.onerror = () => resolve(false);
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('snapshots')) return db.close(), resolve(false);
          const keys = db.transaction('snapshots').objectStore('snapshots').getAllKeys();
          keys.onsuccess = () => {
            db.close();
            resolve((keys.result as string[]).some((k) => k.startsWith(`v86:room:${room}:`) || /^v86:[0-9a-f]{16}$/.test(k)));
          };
          keys.onerror = () => (db.close(), resolve(false));
        };
      }),
    room,
  );
}

export const PASSWORD = 'tandem-e2e-Pa55word!';

/** Signs up through the real form; the page is then on its (empty) dashboard. Returns the email. */
export async function signUp(page: Page, name: string): Promise<string> {
  const email = `${name.toLowerCase().replace(/\W+/g, '-')}-${Date.now()}@example.test`;
  await page.goto('/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('You have no rooms yet')).toBeVisible();
  return email;
}

/** Creates a v86 room from the dashboard (optionally choosing its guest); returns its path. */
export async function createRoom(page: Page, name: string, guest?: 'disk' | 'small'): Promise<string> {
  await page.getByLabel('Room name').fill(name);
  await page.getByLabel('Engine').selectOption('v86');
  if (guest) await page.getByLabel('Guest').selectOption(guest);
  await page.getByRole('button', { name: 'Create room' }).click();
  await page.waitForURL(/\/r\/[a-z0-9-]+$/);
  return new URL(page.url()).pathname;
}
