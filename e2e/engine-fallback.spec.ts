import { expect, test } from '@playwright/test';
import { CHEERPX_URL } from '../lib/shared/engines';
import { screen } from './helpers';

test('auto engine falls back to v86 with a visible notice when CheerpX cannot load', async ({ page }) => {
  // Offline by construction: the CDN request is answered here and never leaves the machine.
  let cdnRequests = 0;
  await page.route(CHEERPX_URL, (route) => {
    cdnRequests++;
    return route.abort('internetdisconnected');
  });
  const res = await page.request.post('/rooms/new', { form: { name: 'fallback' }, maxRedirects: 0 });
  await page.goto(`${res.headers().location}?engine=auto`);
  await expect(page.getByText(/CheerpX is not available here/)).toBeVisible({ timeout: 30_000 });
  expect(cdnRequests).toBe(1);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await expect(page.locator('main.room')).toHaveAttribute('data-phase', 'ready', { timeout: 120_000 });
  await expect.poll(() => screen(page)).toMatch(/user@tandem:~\$/);

  // This browser remembers that CheerpX failed here: the next load goes straight to v86.
  await page.reload();
  await expect(page.locator('main.room')).toHaveAttribute('data-phase', 'ready', { timeout: 120_000 });
  expect(cdnRequests).toBe(1);
  await expect(page.getByText(/CheerpX is not available here/)).toHaveCount(0);
});
