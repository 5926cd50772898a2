import { expect, test, type Page } from '@playwright/test';

/** Text of the terminal as rendered in the page (xterm's DOM renderer), one string per row. */
async function screen(page: Page): Promise<string> {
  return page.locator('.xterm-rows').innerText();
}

async function newRoom(page: Page, name: string): Promise<string> {
  const res = await page.request.post('/rooms/new', { form: { name }, maxRedirects: 0 });
  expect(res.status()).toBe(303);
  return res.headers().location;
}

async function waitForPrompt(page: Page) {
  await expect(page.locator('main.room')).toHaveAttribute('data-phase', 'ready', { timeout: 120_000 });
  await expect.poll(() => screen(page), { timeout: 30_000 }).toMatch(/user@tandem:~\$/);
}

test('a host shares its real v86 VM live; a guest types, both see the result; a late guest gets the screen', async ({ browser }) => {
  const hostCtx = await browser.newContext();
  const host = await hostCtx.newPage();
  const roomPath = await newRoom(host, 'e2e pairing');
  let hostOutFrames = 0;
  host.on('websocket', (ws) => ws.on('framesent', (f) => void (String(f.payload).includes('"term:out"') && hostOutFrames++)));
  await host.goto(roomPath);
  await expect(host.locator('main.room')).toHaveAttribute('data-role', 'host');
  // The boot progress bar is shown while the VM starts.
  await expect(host.getByRole('progressbar')).toBeVisible();
  await waitForPrompt(host);

  const guestCtx = await browser.newContext();
  const guest = await guestCtx.newPage();
  await guest.goto(roomPath);
  await expect(guest.locator('main.room')).toHaveAttribute('data-role', 'guest');
  await expect.poll(() => screen(guest)).toMatch(/user@tandem:~\$/);

  await guest.locator('.xterm').click();
  await guest.keyboard.type('echo $((6*7))');
  await guest.keyboard.press('Enter');
  // `42` alone on a line: the VM's answer, not the echoed command line.
  await expect.poll(() => screen(guest)).toMatch(/^42\s*$/m);
  await expect.poll(() => screen(host)).toMatch(/^42\s*$/m);
  // Shell integration: the finished command's prompt line carries an exit-code badge.
  await expect(host.locator('.cmd-badge.ok').first()).toBeVisible();

  // A late joiner gets the current screen from the server's mirror: the host sends nothing for it.
  await host.waitForTimeout(500); // let the prompt after 42 settle
  const framesBefore = hostOutFrames;
  expect(framesBefore).toBeGreaterThan(0);
  const lateCtx = await browser.newContext();
  const late = await lateCtx.newPage();
  await late.goto(roomPath);
  await expect(late.locator('main.room')).toHaveAttribute('data-role', 'guest');
  await expect.poll(() => screen(late)).toMatch(/^42\s*$/m);
  expect(hostOutFrames).toBe(framesBefore);

  // Host leaves: guests are told and the room waits; the host returns and sharing resumes.
  await host.close();
  await expect(guest.getByText('Host disconnected')).toBeVisible();
  const host2 = await hostCtx.newPage();
  await host2.goto(roomPath);
  await expect(host2.locator('main.room')).toHaveAttribute('data-role', 'host');
  await waitForPrompt(host2);
  // The second boot in the same browser restores the saved VM instead of booting cold.
  await expect(host2.locator('.status')).toContainText('Restored');
  await expect(guest.getByText('Host disconnected')).toBeHidden();
  await guest.locator('.xterm').click();
  await guest.keyboard.type('echo sum=$((40+2))');
  await guest.keyboard.press('Enter');
  await expect.poll(() => screen(guest)).toMatch(/^sum=42\s*$/m);
  await expect.poll(() => screen(late)).toMatch(/^sum=42\s*$/m);

  await Promise.all([hostCtx.close(), guestCtx.close(), lateCtx.close()]);
});

test('an unknown room shows a clear error', async ({ page }) => {
  await page.goto('/r/no-such-room');
  await expect(page.getByRole('heading', { name: 'Room not found' })).toBeVisible();
});
