import { expect, test, type Page } from '@playwright/test';
import { newRoom, roomMenu, screen, typeLine, waitForPrompt } from './helpers';

const required = !!process.env.CI || process.env.TANDEM_REQUIRE_DISK === '1';
/** How old the saved VM is when it is restored: a guest clock left at the snapshot's time is this far behind. */
const SNAPSHOT_AGE_MS = 20_000;

/** The guest's `date +%s` and the host's time around it (before typing, after the answer showed). */
async function guestClock(page: Page, tag: string) {
  const before = Date.now() / 1000;
  await typeLine(page, `echo ${tag}-$(date +%s)-end`);
  await expect.poll(() => screen(page)).toMatch(new RegExp(`^${tag}-\\d+-end\\s*$`, 'm'));
  const after = Date.now() / 1000;
  const guest = Number(new RegExp(`^${tag}-(\\d+)-end`, 'm').exec(await screen(page))![1]);
  return { guest, before, after };
}

test.describe('the guest clock (Debian disk)', () => {
  test.beforeEach(async ({ request }) => {
    const m = (await (await request.get('/vm/manifest.json')).json()) as { disk?: unknown };
    test.skip(!m.disk && !required, 'the server announces no root disk: build it with `sudo npm run build:disk`');
  });

  test('a VM restored from a snapshot made earlier runs on the real time, within 2 s', async ({ browser }) => {
    const ctx = await browser.newContext();
    // No final-state worker in this browser: its reload would restore the state its closing page
    // sent (a second old), not the saved VM made SNAPSHOT_AGE_MS before, and test nothing.
    await ctx.route('**/room-state-worker.js', (r) => r.abort());
    const page = await ctx.newPage();
    await page.goto(await newRoom(page.request, 'e2e guest clock'));
    await waitForPrompt(page);
    // The first load restores the server's boot snapshot when it has one (made minutes ago).
    const first = await guestClock(page, 'first');
    expect(first.guest).toBeGreaterThanOrEqual(Math.floor(first.before) - 2);
    expect(first.guest).toBeLessThanOrEqual(Math.ceil(first.after) + 2);

    await (await roomMenu(page)).getByRole('button', { name: 'Save VM' }).click();
    await expect(page.getByText(/^Saved the VM \(\d+\.\d MB in \d+\.\d s\)/)).toBeVisible({ timeout: 60_000 });
    // The saved VM ages (the running one with it, unused); a restored guest that kept the
    // snapshot's clock would be this far behind.
    await page.waitForTimeout(SNAPSHOT_AGE_MS);
    await page.reload();
    await waitForPrompt(page);
    await expect(page.locator('.status')).toContainText('Restored');
    const restored = await guestClock(page, 'restored');
    expect(restored.guest, `guest ${restored.guest}, host ${restored.before.toFixed(1)}…${restored.after.toFixed(1)}`).toBeGreaterThanOrEqual(Math.floor(restored.before) - 2);
    expect(restored.guest).toBeLessThanOrEqual(Math.ceil(restored.after) + 2);
    // Nothing was typed into the shared terminal to do it: the screen holds only what the test typed.
    expect(await screen(page)).not.toMatch(/date -s|\d{10}\.\d{3}/);
    await ctx.close();
  });
});
