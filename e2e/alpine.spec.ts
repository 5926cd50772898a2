import { expect, test, type Page } from '@playwright/test';
import { CHEERPX_URL } from '../lib/shared/engines';
import { newRoom } from './helpers';

/** Pixels of a canvas that are not (near) black: the VGA screen is white/grey text on black. */
const litPixels = (page: Page, selector: string) =>
  page.locator(selector).evaluate((c: HTMLCanvasElement) => {
    const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] > 96) n++;
    return n;
  });
/** The host VM's VGA text screen, read from v86 (exposed by the page for tests). */
const vgaText = (page: Page) => page.evaluate(() => ((window as unknown as { __tandemScreenText?: () => string[] }).__tandemScreenText?.() ?? []).join('\n'));

test('/alpine: the host boots v86 and shows its VGA screen with keyboard; a guest sees the frames and types too', async ({ browser }) => {
  const hostCtx = await browser.newContext();
  const host = await hostCtx.newPage();
  await host.goto('/alpine');
  const main = host.locator('main.screen-room');
  await expect(main).toHaveAttribute('data-seat', 'host');
  await expect(main).toHaveAttribute('data-engine', 'v86');
  await expect(main).toHaveAttribute('data-phase', 'ready', { timeout: 120_000 });
  // With v86 the Tailscale control explains why it cannot connect.
  await expect(host.getByText('needs the CheerpX engine')).toBeVisible();

  const canvas = host.locator('.screen-host canvas');
  await expect.poll(() => vgaText(host), { timeout: 30_000 }).toMatch(/user@tandem:~\$/);
  await expect.poll(() => litPixels(host, '.screen-host canvas')).toBeGreaterThan(500);

  const before = await canvas.screenshot();
  await canvas.click();
  await host.keyboard.type('echo $((6*7))');
  await host.keyboard.press('Enter');
  // `42` alone on a line: the VM's answer on its VGA console, not the echoed command.
  await expect.poll(() => vgaText(host)).toMatch(/^42\s*$/m);
  const after = await canvas.screenshot();
  expect(after.equals(before)).toBe(false);

  // A guest of the same room gets the screen as frames relayed by the server…
  const guestCtx = await browser.newContext();
  const guest = await guestCtx.newPage();
  let framesReceived = 0;
  guest.on('websocket', (ws) => ws.on('framereceived', (f) => void (String(f.payload).includes('"screen:frame"') && framesReceived++)));
  const guestOpenedAt = Date.now();
  await guest.goto('/alpine');
  await expect(guest.locator('main.screen-room')).toHaveAttribute('data-seat', 'guest');
  const guestCanvas = guest.locator('canvas.screen-guest');
  await expect(guestCanvas).toHaveAttribute('data-frames', /^[1-9]/);
  await expect.poll(() => litPixels(guest, 'canvas.screen-guest')).toBeGreaterThan(500);

  // …and its keystrokes reach the host's VM, whose new screen comes back to the guest.
  const framesBefore = Number(await guestCanvas.getAttribute('data-frames'));
  await guestCanvas.click();
  await guest.keyboard.type('echo guest$((40+2))');
  await guest.keyboard.press('Enter');
  await expect.poll(() => vgaText(host)).toMatch(/^guest42\s*$/m);
  await expect.poll(async () => Number(await guestCanvas.getAttribute('data-frames'))).toBeGreaterThan(framesBefore);

  // The server's rate cap (10 frames a second; timed exactly in ScreenRelay.test.ts): at most one
  // frame per 100 ms since the guest opened, plus the late-join one. Counted over the whole time,
  // not per second as received: a stalled test process delivers frames in bunches, which moves
  // their arrival times but never adds frames.
  expect(framesReceived).toBeLessThanOrEqual(Math.floor((Date.now() - guestOpenedAt) / 100) + 2);

  // The host reloads: the VM comes back from its saved state, screen and shell included.
  await host.reload();
  await expect(main).toHaveAttribute('data-seat', 'host');
  await expect(main).toHaveAttribute('data-phase', 'ready', { timeout: 120_000 });
  await expect(host.locator('.status')).toContainText('Restored');
  await expect.poll(() => vgaText(host)).toMatch(/user@tandem:~\$/);
  await canvas.click();
  await host.keyboard.type('echo again$((1+1))');
  await host.keyboard.press('Enter');
  await expect.poll(() => vgaText(host)).toMatch(/^again2\s*$/m);

  await Promise.all([hostCtx.close(), guestCtx.close()]);
});

test('/alpine?room=: auto falls back to the v86 screen with a notice when CheerpX cannot load; cheerpx says why it failed', async ({ page }) => {
  // Offline by construction: the CDN request is answered here and never leaves the machine.
  await page.route(CHEERPX_URL, (route) => route.abort('internetdisconnected'));
  const room = (await newRoom(page.request, 'alpine fallback')).split('/').pop()!;
  await page.goto(`/alpine?room=${room}&engine=auto`);
  await expect(page.getByText(/CheerpX is not available here.*VGA screen instead/)).toBeVisible({ timeout: 30_000 });
  const main = page.locator('main.screen-room');
  await expect(main).toHaveAttribute('data-engine', 'v86');
  await expect(main).toHaveAttribute('data-phase', 'ready', { timeout: 120_000 });
  await expect.poll(() => vgaText(page), { timeout: 30_000 }).toMatch(/user@tandem:~\$/);

  await page.goto(`/alpine?room=${room}&engine=cheerpx`);
  await expect(page.getByText(/VM failed to start: CheerpX could not start/)).toBeVisible({ timeout: 30_000 });
  await expect(main).toHaveAttribute('data-phase', 'failed');
});
