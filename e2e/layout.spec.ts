import { expect, test, type Locator, type Page } from '@playwright/test';
import { activeTerm, countKeystrokeFrames, newRoom, roomMenu, screen, typeLine, waitForPrompt } from './helpers';

/** A phone, a laptop with a small window, a desktop with a short one. */
const VIEWPORTS = [
  { width: 390, height: 800 },
  { width: 900, height: 700 },
  { width: 1366, height: 650 },
];
/** Where the side panel becomes a drawer (the page's media query). */
const DRAWER_BELOW_PX = 1000;

/** The cursor's cell (xterm draws it on the row it sits on), else the prompt's row (then only its height counts). */
async function cursorBox(page: Page) {
  const rows = activeTerm(page).locator('.xterm-rows');
  const cursor = rows.locator('.xterm-cursor');
  // xterm redraws its rows: an element found a moment ago may be gone; then no box, and the poll asks again.
  const nowhere = { x: -1e6, y: -1e6, width: 0, height: 0 };
  if (await cursor.count()) return { box: (await cursor.first().boundingBox().catch(() => null)) ?? nowhere, cell: true };
  return { box: (await rows.locator('> div', { hasText: /user@tandem:~\$\s*$/ }).last().boundingBox().catch(() => null)) ?? nowhere, cell: false };
}

/** The cursor's row lies inside the window and inside the terminal's box (not scrolled away). */
async function expectCursorInView(page: Page) {
  const vp = page.viewportSize()!;
  await expect
    .poll(async () => {
      const { box: c, cell } = await cursorBox(page);
      const wrap = (await page.locator('.term-wrap').boundingBox())!;
      const top = Math.max(0, wrap.y);
      const bottom = Math.min(vp.height, wrap.y + wrap.height);
      const left = Math.max(0, wrap.x);
      const right = Math.min(vp.width, wrap.x + wrap.width);
      const rowIn = c.y >= top - 1 && c.y + c.height <= bottom + 1;
      return rowIn && (!cell || (c.x >= left - 1 && c.x + c.width <= right + 1));
    }, { message: `cursor row in view at ${vp.width}×${vp.height}` })
    .toBe(true);
}

/** Every control in the top bar has an accessible name (a nameless one shows as a bare role). */
async function expectNamedControls(bar: Locator) {
  const tree = await bar.ariaSnapshot();
  expect(tree).not.toMatch(/- (button|link|textbox|checkbox|combobox)(:|\s*$)/m);
}

/** Presses Tab until `target` has the focus (a keyboard user's walk); Escape first leaves the terminal. */
async function tabTo(page: Page, target: Locator, maxPresses = 40) {
  for (let i = 0; i < maxPresses; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    const inTerminal = await page.evaluate(() => !!document.activeElement?.classList.contains('xterm-helper-textarea'));
    if (inTerminal) await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target}`);
}

test('the room at phone, laptop and desktop sizes: the newest line in view, the side panel as a drawer, named controls, keyboard and copy', async ({ browser }, testInfo) => {
  // Three window sizes, two pages each, one VM: on a loaded machine this takes several minutes.
  test.setTimeout(600_000);
  const hostCtx = await browser.newContext({ viewport: VIEWPORTS[2] });
  const room = await newRoom(hostCtx.request, 'e2e layout', 'small');
  const guestCtx = await browser.newContext({ viewport: VIEWPORTS[2], permissions: ['clipboard-read', 'clipboard-write'] });
  const host = await hostCtx.newPage();
  await host.goto(room);
  await waitForPrompt(host);
  const guest = await guestCtx.newPage();
  await guest.goto(room);
  await expect(guest.locator('main.room')).toHaveAttribute('data-seat', 'guest');
  await expect.poll(() => screen(guest)).toMatch(/user@tandem:~\$/);

  for (const vp of VIEWPORTS) {
    await host.setViewportSize(vp);
    await guest.setViewportSize(vp);
    const tag = `${vp.width}x${vp.height}`;
    // A command that prints more lines than any of these windows holds.
    await typeLine(host, `seq 60; echo done-${vp.width}`);
    for (const page of [host, guest]) {
      await expect.poll(() => screen(page)).toMatch(new RegExp(`^done-${vp.width}\\s*$`, 'm'));
      await expectCursorInView(page);
    }

    // Top bar: the essentials by name, the rest in one menu; nothing without a name.
    for (const page of [host, guest]) {
      const bar = page.locator('.topbar');
      await expect(bar.getByRole('link', { name: 'Tandem' })).toBeVisible();
      await expect(bar.getByRole('button', { name: 'Copy link' })).toBeVisible();
      await expect(bar.getByText(/^connected$/)).toBeVisible();
      const menu = await roomMenu(page);
      await expect(menu.getByRole('button', { name: 'Previous command' })).toBeVisible();
      await expect(menu.getByRole('button', { name: 'Next command' })).toBeVisible();
      await expect(menu.getByRole('checkbox', { name: 'Screen reader mode' })).toBeVisible();
      await expect(menu.getByRole('button', { name: 'New room' })).toBeVisible();
      await expectNamedControls(bar);
      if (page === host) {
        await expect(menu.getByRole('button', { name: 'Save VM' })).toBeVisible();
        await expect(menu.getByRole('button', { name: 'Reset VM…' })).toBeVisible();
      } else await expect(menu.getByRole('button', { name: /Save VM|Reset VM/ })).toHaveCount(0);
      // Tailscale runs only in CheerpX: on v86 it is not offered at all.
      await expect(page.getByRole('button', { name: /Tailscale/ })).toHaveCount(0);
      await page.keyboard.press('Escape');
      await expect(menu).toBeHidden();
    }

    // The side panel: a drawer under 1000 px that opens and closes; beside the terminal above.
    const toggle = guest.getByRole('button', { name: 'People & notes' });
    const panel = guest.getByRole('complementary', { name: 'Room panel' });
    if (vp.width < DRAWER_BELOW_PX) {
      await expect(panel).toBeHidden();
      await toggle.click();
      await expect(panel).toBeVisible();
      await expect(panel.getByLabel('Shared notes')).toBeVisible();
      await guest.screenshot({ path: testInfo.outputPath(`guest-${tag}-drawer.png`) });
      await guest.keyboard.press('Escape');
      await expect(panel).toBeHidden();
      await expect(toggle).toBeFocused();
    } else {
      await expect(toggle).toHaveCount(0);
      await expect(panel.getByLabel('Shared notes')).toBeVisible();
    }
    await host.screenshot({ path: testInfo.outputPath(`host-${tag}.png`) });
    await guest.screenshot({ path: testInfo.outputPath(`guest-${tag}.png`) });
  }

  // A phone guest watching a desktop host: the text shrinks to a readable minimum, the view
  // scrolls sideways, and the newest line stays in view.
  await host.setViewportSize(VIEWPORTS[2]);
  await guest.setViewportSize(VIEWPORTS[0]);
  await typeLine(host, 'seq 60; echo done-wide');
  await expect.poll(() => screen(guest)).toMatch(/^done-wide\s*$/m);
  await expectCursorInView(guest);
  await guest.screenshot({ path: testInfo.outputPath('guest-390x800-desktop-host.png') });

  // Keyboard only: from the top of the page a guest reaches "Copy link", then the notes.
  await guest.setViewportSize(VIEWPORTS[2]);
  await guest.locator('body').evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await tabTo(guest, guest.getByRole('button', { name: 'Copy link' }));
  await tabTo(guest, guest.getByLabel('Shared notes'));
  // On a phone the notes are in the drawer, opened from the keyboard too.
  await guest.setViewportSize(VIEWPORTS[0]);
  await guest.locator('body').evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await tabTo(guest, guest.getByRole('button', { name: 'Copy link' }));
  await tabTo(guest, guest.getByRole('button', { name: 'People & notes' }));
  await guest.keyboard.press('Enter');
  await tabTo(guest, guest.getByLabel('Shared notes'));
  await guest.keyboard.press('Escape');

  // Copy: a guest selects text on the shared screen and presses Ctrl+C; it lands on the
  // clipboard and nothing reaches the VM (no ^C there, no keystroke frame sent).
  await guest.setViewportSize(VIEWPORTS[2]);
  const keystrokes = countKeystrokeFrames(guest);
  await guest.reload();
  await expect.poll(() => screen(guest)).toMatch(/^done-wide\s*$/m);
  // The mouse goes to the word on screen (xterm's screen layer takes the pointer, not the row element).
  const word = (await activeTerm(guest).locator('.xterm-rows > div', { hasText: /^done-wide\s*$/ }).last().boundingBox())!;
  await guest.mouse.dblclick(word.x + 8, word.y + word.height / 2);
  await guest.keyboard.press('Control+c');
  await expect.poll(() => guest.evaluate(() => navigator.clipboard.readText())).toContain('done');
  await host.waitForTimeout(500);
  expect(keystrokes.n).toBe(0);
  expect(await screen(host)).not.toContain('^C');

  await Promise.all([hostCtx.close(), guestCtx.close()]);
});
