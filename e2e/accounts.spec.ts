import { expect, test, type Page } from '@playwright/test';
import { screen, typeLine, waitForPrompt } from './helpers';

/** Counts the Socket.IO `term:in` frames a page sends: a read-only viewer must send none. */
function countKeystrokeFrames(page: Page): { n: number } {
  const c = { n: 0 };
  page.on('websocket', (ws) => ws.on('framesent', (f) => void (String(f.payload).includes('"term:in"') && c.n++)));
  return c;
}

test('owner signs up, hosts a room and invites a viewer; promoted, the guest types; revoking the link cuts the guest off', async ({ browser }) => {
  const ownerCtx = await browser.newContext();
  const owner = await ownerCtx.newPage();
  const email = `owner-${Date.now()}@example.test`;

  // Sign up through the form: the server's password policy is shown inline first.
  await owner.goto('/signup');
  await owner.getByLabel('Email').fill(email);
  await owner.getByLabel('Name').fill('Olivia Owner');
  await owner.getByLabel('Password').fill('short');
  await owner.getByRole('button', { name: 'Create account' }).click();
  await expect(owner.locator('#password-error')).toContainText('too short');
  await owner.getByLabel('Password').fill('tandem-e2e-Pa55word!');
  await owner.getByRole('button', { name: 'Create account' }).click();

  // Signed in, `/` is the dashboard; create a room there (v86: tests never reach the internet).
  await expect(owner.getByRole('heading', { name: 'My rooms' })).toBeVisible();
  await expect(owner.getByText('Olivia Owner')).toBeVisible();
  // The list comes from the server after the page is live.
  await expect(owner.getByText('You have no rooms yet')).toBeVisible();
  await owner.getByLabel('Room name').fill('e2e class');
  await owner.getByLabel('Engine').selectOption('v86');
  await owner.getByRole('button', { name: 'Create room' }).click();
  await owner.waitForURL(/\/r\/[a-z0-9-]+$/);
  const roomPath = new URL(owner.url()).pathname;
  await expect(owner.locator('main.room')).toHaveAttribute('data-role', 'host');
  await expect(owner.locator('main.room')).toHaveAttribute('data-member-role', 'owner');
  await waitForPrompt(owner);

  // A viewer invite link.
  await owner.getByLabel('Invite role').selectOption('viewer');
  await owner.getByRole('button', { name: 'Create link' }).click();
  const inviteUrl = await owner.getByRole('textbox', { name: 'New invite link' }).inputValue();
  expect(inviteUrl).toMatch(/\/join\/[A-Za-z0-9_-]{20,}$/);

  // A second browser, signed out and with a small window, joins by the link with a display name
  // that looks like markup.
  const hostScreenWidth = async () => (await owner.locator('.term:not([hidden]) .xterm-screen').boundingBox())!.width;
  const ownerWidthBefore = await hostScreenWidth();
  const guestCtx = await browser.newContext({ viewport: { width: 640, height: 480 } });
  const guest = await guestCtx.newPage();
  const dialogs: string[] = [];
  for (const p of [owner, guest]) p.on('dialog', (d) => void (dialogs.push(d.message()), d.dismiss()));
  const keystrokes = countKeystrokeFrames(guest);
  const evilName = 'Sam <script>alert(1)</script>';
  await guest.goto(new URL(inviteUrl).pathname);
  await expect(guest.getByRole('heading', { name: 'e2e class' })).toBeVisible();
  await expect(guest.getByText('viewer — read only')).toBeVisible();
  await guest.getByLabel('Your name').fill(evilName);
  await guest.getByRole('button', { name: 'Join as guest' }).click();
  await guest.waitForURL((u) => u.pathname === roomPath);
  await expect(guest.locator('main.room')).toHaveAttribute('data-role', 'guest');
  await expect(guest.locator('main.room')).toHaveAttribute('data-member-role', 'viewer');
  await expect(guest.getByTestId('role-badge')).toHaveText('viewer — read only');
  await expect.poll(() => screen(guest)).toMatch(/user@tandem:~\$/);
  // Per-viewer size: the guest's small window does not shrink the host's terminal; the guest's view scales down.
  await expect(guest.getByText(/Fit to window \(\d+%\)/)).toBeVisible();
  expect(await hostScreenWidth()).toBe(ownerWidthBefore);

  // The name is text everywhere, never markup.
  const ownerSeesGuest = owner.locator('.member', { hasText: evilName });
  await expect(ownerSeesGuest).toBeVisible();
  expect(await owner.locator('script', { hasText: 'alert(1)' }).count()).toBe(0);

  // The viewer cannot type: nothing is sent and nothing reaches the VM.
  await typeLine(guest, 'echo viewer-typed-$((1+1))');
  await guest.waitForTimeout(1500);
  expect(keystrokes.n).toBe(0);
  expect(await screen(owner)).not.toContain('viewer-typed');
  expect(await screen(guest)).not.toContain('viewer-typed');

  // The owner promotes the guest to driver, live.
  await owner.getByLabel(`Role of ${evilName}`).selectOption('driver');
  await expect(guest.locator('main.room')).toHaveAttribute('data-member-role', 'driver');
  await expect(guest.getByTestId('role-badge')).toHaveAttribute('data-readonly', 'false');
  await typeLine(guest, 'echo $((6*7))');
  await expect.poll(() => screen(guest)).toMatch(/^42\s*$/m);
  await expect.poll(() => screen(owner)).toMatch(/^42\s*$/m);
  expect(keystrokes.n).toBeGreaterThan(0);

  // The owner revokes the link: the guest who came through it is cut off at once.
  await owner.locator('.invite[data-state="active"]').getByRole('button', { name: 'Revoke' }).click();
  await expect(owner.locator('.invite[data-state="revoked"]')).toBeVisible();
  await expect(guest.getByRole('heading', { name: 'You no longer have access to this room' })).toBeVisible();
  // And the link itself now says so.
  await guest.goto(new URL(inviteUrl).pathname);
  await expect(guest.getByRole('heading', { name: 'This invite link was revoked' })).toBeVisible();

  expect(dialogs).toEqual([]);
  await Promise.all([ownerCtx.close(), guestCtx.close()]);
});

test('a members-only room refuses a signed-out visitor with a sign-in page', async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto('/signup');
  await page.getByLabel('Email').fill(`solo-${Date.now()}@example.test`);
  await page.getByLabel('Name').fill('Solo');
  await page.getByLabel('Password').fill('tandem-e2e-Pa55word!');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('You have no rooms yet')).toBeVisible();
  await page.getByLabel('Room name').fill('private');
  await page.getByLabel('Engine').selectOption('v86');
  await page.getByRole('button', { name: 'Create room' }).click();
  await page.waitForURL(/\/r\/[a-z0-9-]+$/);
  const roomPath = new URL(page.url()).pathname;

  const strangerCtx = await browser.newContext();
  const stranger = await strangerCtx.newPage();
  await stranger.goto(roomPath);
  await expect(stranger.getByRole('heading', { name: 'Sign in to join' })).toBeVisible();
  await Promise.all([ctx.close(), strangerCtx.close()]);
});
