import { expect, test, type Browser } from '@playwright/test';
import { countKeystrokeFrames, createRoom, PASSWORD, roomMenu, screen, signUp, typeLine, waitForPrompt } from './helpers';

/** Counts the Socket.IO `term:in` frames a page sends: a read-only viewer must send none. */
test('owner signs up, hosts a room and invites a viewer; promoted, the guest types; a revoked link keeps whom the owner promoted, removing cuts them off', async ({ browser }) => {
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
  await owner.getByLabel('Password').fill(PASSWORD);
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
  await expect(owner.locator('main.room')).toHaveAttribute('data-seat', 'host');
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
  await expect(guest.locator('main.room')).toHaveAttribute('data-seat', 'guest');
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

  // The owner revokes the link. The guest keeps the seat: promoting them was the owner's own choice, which
  // unties the seat from the link (so an instructor revoking a link cannot remove whom an owner placed).
  await owner.locator('.invite[data-state="active"]').getByRole('button', { name: 'Revoke' }).click();
  await expect(owner.locator('.invite[data-state="revoked"]')).toBeVisible();
  await owner.waitForTimeout(1000);
  await expect(guest.locator('main.room')).toHaveAttribute('data-member-role', 'driver');
  // Removing them cuts them off at once.
  await owner.getByRole('button', { name: `Remove ${evilName}` }).click();
  await owner.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(guest.getByRole('heading', { name: 'You no longer have access to this room' })).toBeVisible();
  // And the link itself now says so.
  await guest.goto(new URL(inviteUrl).pathname);
  await expect(guest.getByRole('heading', { name: 'This invite link was revoked' })).toBeVisible();

  expect(dialogs).toEqual([]);
  await Promise.all([ownerCtx.close(), guestCtx.close()]);
});

/** Signs up through the form; returns the email. */
test('dashboard: rename, archive, delete; an invite for someone signed in; refusals explain themselves; API tokens; sign out and in', async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const email = await signUp(page, 'Solo');
  const roomPath = await createRoom(page, 'private');

  const strangerCtx = await browser.newContext();
  const stranger = await strangerCtx.newPage();
  await stranger.goto(roomPath);
  await expect(stranger.getByRole('heading', { name: 'Sign in to join' })).toBeVisible();
  await stranger.goto('/join/not-a-real-token-at-all');
  await expect(stranger.getByRole('heading', { name: 'Invite link not found' })).toBeVisible();

  // Someone with an account joins by a link: the room is then on their dashboard, with the link's role.
  await page.getByLabel('Invite role').selectOption('driver');
  await page.getByRole('button', { name: 'Create link' }).click();
  const inviteUrl = await page.getByRole('textbox', { name: 'New invite link' }).inputValue();
  await signUp(stranger, 'Friend');
  await stranger.goto(roomPath);
  await expect(stranger.getByRole('heading', { name: 'Ask the owner for an invite link' })).toBeVisible();
  await stranger.goto(new URL(inviteUrl).pathname);
  await expect(stranger.getByText('Joining as Friend')).toBeVisible();
  await stranger.getByRole('button', { name: 'Join room' }).click();
  await stranger.waitForURL((u) => u.pathname === roomPath);
  await expect(stranger.locator('main.room')).toHaveAttribute('data-member-role', 'driver');
  await stranger.goto('/');
  await expect(stranger.locator('.room-item', { hasText: 'private' }).getByText('driver — may type')).toBeVisible();

  await page.goto('/');
  const row = page.locator('.room-item', { hasText: 'private' });
  await row.getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('New name').fill('renamed room');
  await page.getByLabel('Room guest').selectOption('small');
  await page.getByRole('button', { name: 'Save' }).click();
  const renamed = page.locator('.room-item', { hasText: 'renamed room' });
  await expect(renamed).toBeVisible();
  await expect(renamed.getByText('small guest')).toBeVisible();
  await expect(renamed.locator('.badge', { hasText: /^v86$/ })).toBeVisible(); // the engine it was made with is kept
  await renamed.getByRole('button', { name: 'Archive' }).click();
  await expect(page.getByText('You have no rooms yet')).toBeVisible();
  await page.getByLabel('Show archived').check();
  await expect(renamed.locator('.badge', { hasText: /^archived$/ })).toBeVisible();
  await renamed.getByRole('button', { name: 'Unarchive' }).click();
  await expect(renamed.getByRole('button', { name: 'Archive' })).toBeVisible();
  await renamed.getByRole('button', { name: 'Delete' }).click();
  await renamed.getByRole('button', { name: 'Delete for good' }).click();
  await expect(page.getByText('You have no rooms yet')).toBeVisible();
  await stranger.goto(roomPath);
  await expect(stranger.getByRole('heading', { name: 'Room not found' })).toBeVisible();

  // API tokens (issue #5): made in the settings page, shown once, work as Bearer keys until revoked.
  await page.goto('/settings/tokens');
  await page.getByLabel('Token name').fill('grading script');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.getByRole('textbox', { name: 'New token' }).inputValue();
  expect(token).toMatch(/^tdm_/);
  const auth = { authorization: `Bearer ${token}` };
  expect((await page.request.get('/api/rooms', { headers: auth })).status()).toBe(200);
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByRole('textbox', { name: 'New token' })).toHaveCount(0);
  const tokenRow = page.getByRole('row', { name: /grading script/ });
  await tokenRow.getByRole('button', { name: 'Revoke' }).click();
  await tokenRow.getByRole('button', { name: 'Revoke for good' }).click();
  await expect(page.getByText('No tokens yet.')).toBeVisible();
  expect((await page.request.get('/api/rooms', { headers: auth })).status()).toBe(401);

  // Signed out, `/` is the open default room again, with a way to sign in.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.locator('main.room')).toBeVisible();
  // The room's account corner is in its top-bar menu.
  const signIn = (await roomMenu(page)).getByRole('link', { name: 'Sign in' });
  await expect(signIn).toBeVisible();

  // And back in, through the sign-in form; a wrong password says so in words.
  await signIn.click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.locator('.form-error')).toHaveText('Wrong email or password.');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'My rooms' })).toBeVisible();
  await Promise.all([ctx.close(), strangerCtx.close()]);
});

test('keyboard control: one at a time, a raised hand, the owner hands over the keyboard; notes and presence are shared', async ({ browser }) => {
  const { ownerCtx, owner, guestCtx, guest } = await ownerAndDriverGuest(browser, 'Teacher', 'control room', 'Student');
  await expect(guest.locator('main.room')).toHaveAttribute('data-can-type', 'true');
  // Presence with names, both ways.
  await expect(guest.locator('.member', { hasText: 'Teacher' })).toBeVisible();
  await expect(owner.locator('.member', { hasText: 'Student' })).toBeVisible();

  // Notes are shared live.
  await owner.getByLabel('Shared notes').fill('step 1: echo hi');
  await expect(guest.getByLabel('Shared notes')).toHaveValue('step 1: echo hi');

  // One at a time: the owner holds the keyboard, the driver is read-only until handed it.
  await owner.getByRole('radio', { name: 'One at a time' }).click();
  await expect(guest.locator('main.room')).toHaveAttribute('data-can-type', 'false');
  await expect(guest.getByTestId('role-badge')).toContainText('read only');
  await guest.getByRole('button', { name: 'Raise hand' }).click();
  await expect(owner.locator('.member', { hasText: 'Student' }).getByText('hand up')).toBeVisible();
  await owner.locator('.hand-list').getByRole('button', { name: 'Give keyboard' }).click();
  await expect(guest.locator('main.room')).toHaveAttribute('data-can-type', 'true');
  await expect(owner.locator('main.room')).toHaveAttribute('data-can-type', 'false');
  await typeLine(guest, 'echo held-$((6*7))');
  await expect.poll(() => screen(owner)).toMatch(/^held-42\s*$/m);

  // Take it back: the guest is read-only again.
  await owner.getByRole('button', { name: 'Take back' }).click();
  await expect(guest.locator('main.room')).toHaveAttribute('data-can-type', 'false');
  await expect(owner.locator('main.room')).toHaveAttribute('data-can-type', 'true');
  await Promise.all([ownerCtx.close(), guestCtx.close()]);
});

test('a guest leaves the room: the seat ends, the owner sees them go, and the browser is not let back in', async ({ browser }) => {
  const { ownerCtx, owner, roomPath, guestCtx, guest } = await ownerAndDriverGuest(browser, 'Lena Owner', 'leavers', 'Gil Guest');
  await expect(owner.locator('.member', { hasText: 'Gil Guest' })).toBeVisible();
  // The owner cannot leave (the room needs an owner); the guest can.
  await expect(owner.getByRole('button', { name: 'Leave room' })).toHaveCount(0);

  guest.once('dialog', (d) => void d.accept());
  await (await roomMenu(guest)).getByRole('button', { name: 'Leave room' }).click();
  await guest.waitForURL((u) => u.pathname === '/');
  await expect(owner.locator('.member', { hasText: 'Gil Guest' })).toHaveCount(0, { timeout: 15_000 });
  await guest.goto(roomPath);
  await expect(guest.getByRole('heading', { name: 'Sign in to join' })).toBeVisible();
  await Promise.all([ownerCtx.close(), guestCtx.close()]);
});

/** An owner (signed up, hosting a new room) and a guest who joined it by a driver link, each in its own browser. */
async function ownerAndDriverGuest(browser: Browser, ownerName: string, roomName: string, guestName: string) {
  const ownerCtx = await browser.newContext();
  const owner = await ownerCtx.newPage();
  await signUp(owner, ownerName);
  const roomPath = await createRoom(owner, roomName);
  await waitForPrompt(owner);
  await owner.getByLabel('Invite role').selectOption('driver');
  await owner.getByRole('button', { name: 'Create link' }).click();
  const inviteUrl = await owner.getByRole('textbox', { name: 'New invite link' }).inputValue();

  const guestCtx = await browser.newContext();
  const guest = await guestCtx.newPage();
  await guest.goto(new URL(inviteUrl).pathname);
  await guest.getByLabel('Your name').fill(guestName);
  await guest.getByRole('button', { name: 'Join as guest' }).click();
  await guest.waitForURL((u) => u.pathname === roomPath);
  await expect(guest.locator('main.room')).toHaveAttribute('data-member-role', 'driver');
  return { ownerCtx, owner, roomPath, guestCtx, guest };
}
