import { expect, test } from '@playwright/test';
import { newRoom, roomMenu, screen, typeLine, waitForPrompt } from './helpers';

test('Save VM keeps the running VM as it is: a reload restores it, shell variables and all; Reset VM forgets it and the disk changes', async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(await newRoom(page.request, 'e2e save vm'));
  await waitForPrompt(page);

  // A shell variable lives only in the guest's memory: only a RAM snapshot brings it back.
  // A file lives on the disk's overlay: Reset VM must forget it as well.
  await typeLine(page, 'MARK=$((40+2)); echo hello > ~/note.txt; sync; echo set-$MARK');
  await expect.poll(() => screen(page)).toMatch(/^set-42\s*$/m);
  await (await roomMenu(page)).getByRole('button', { name: 'Save VM' }).click();
  await expect(page.getByText(/^Saved the VM \(\d+\.\d MB in \d+\.\d s\)/)).toBeVisible({ timeout: 60_000 });

  await page.reload();
  await waitForPrompt(page);
  await expect(page.locator('.status')).toContainText('Restored');
  await typeLine(page, 'echo got-$MARK');
  await expect.poll(() => screen(page)).toMatch(/^got-42\s*$/m);

  // Reset VM forgets the saved VM and the room's disk changes: the next boot is cold, the variable and the file are gone.
  page.once('dialog', (d) => void d.accept());
  await (await roomMenu(page)).getByRole('button', { name: 'Reset VM' }).click();
  // A cold boot: tens of seconds on a busy 2-core machine. Its 'Booted' first: until the reset has
  // taken effect the page still says 'ready' and shows the old prompt, and the fresh screen stays
  // empty for longer than waitForPrompt's poll while the kernel boots.
  await expect(page.locator('.status')).toContainText('Booted', { timeout: 120_000 });
  await waitForPrompt(page);
  await typeLine(page, 'cat ~/note.txt; echo after-${MARK:-unset}');
  await expect.poll(() => screen(page)).toMatch(/^after-unset\s*$/m);
  expect(await screen(page)).toContain('No such file');
  await ctx.close();
});
