import { expect, test, type Page } from '@playwright/test';
import { screen, typeLine, waitForPrompt } from './helpers';
import { hostAndGuest, latestStateAt, runQueued } from './handoverHelpers';

/**
 * Nothing lost on a clean leave (issue 11): the host changes its VM and closes its page at once —
 * no Save VM, no quiet period for the debounced upload. In pagehide the page captures the VM and
 * hands it to the room-state service worker, which uploads it after the page is gone; the next
 * host (a guest, or the server's headless host) waits for it and finds the change.
 */

/** The host sets a variable and writes a file (no `sync`: it may live in the guest's page cache, i.e. RAM), then closes within ~1 s. */
async function changeAndClose(host: Page, room: string, tag: string) {
  // The upload after boot has landed; from here on only a change would make another.
  await expect.poll(() => latestStateAt(host, room), { timeout: 90_000 }).toBeGreaterThan(0);
  await host.waitForTimeout(3000);
  const before = await latestStateAt(host, room);
  await typeLine(host, `export FINAL_VAR=var-${tag}; echo file-${tag} > ~/final.txt; echo marks-set`);
  await expect.poll(() => screen(host), { intervals: [100] }).toMatch(/^marks-set\s*$/m);
  // The debounced upload (2.5 s of quiet) has not run: the server's newest state predates the change.
  expect(await latestStateAt(host, room)).toBe(before);
  const closedAt = Date.now();
  await host.close();
  return closedAt;
}

test('the host closes its page a moment after a change; a guest takes over and finds it', async ({ browser, request }) => {
  const { room, host, guest, hostCtx, guestCtx } = await hostAndGuest(browser, request, 'final state by hand');
  const closedAt = await changeAndClose(host, room, 'hand');
  await guest.getByRole('button', { name: 'Take over' }).click();
  await expect(guest.locator('main.room')).toHaveAttribute('data-seat', 'host');
  await waitForPrompt(guest);
  await expect(guest.locator('.status')).toContainText('Restored');
  // The state restored is the one the closed page's worker sent after it was gone.
  expect(await latestStateAt(guest, room)).toBeGreaterThan(closedAt - 1000);
  await typeLine(guest, 'echo "got:$FINAL_VAR:$(cat ~/final.txt)"');
  await expect.poll(() => screen(guest)).toMatch(/^got:var-hand:file-hand\s*$/m);
  await Promise.all([hostCtx.close(), guestCtx.close()]);
});

test('nobody takes over: the headless host resumes from the closed page’s final state', async ({ browser, request }) => {
  const { room, host, guest, hostCtx, guestCtx } = await hostAndGuest(browser, request, 'final state to the server');
  await changeAndClose(host, room, 'auto');
  await expect(guest.getByText(/Tandem \(headless host\) is now hosting/)).toBeVisible({ timeout: 60_000 });
  const output = await runQueued(request, room, 'echo "cmd:$FINAL_VAR:$(cat ~/final.txt)"');
  expect(output).toContain('cmd:var-auto:file-auto');
  await Promise.all([hostCtx.close(), guestCtx.close()]);
});

test('the host reloads its page a moment after a change: its own final state beats its older local copy', async ({ browser, request }) => {
  const { roomPath, room, host, hostCtx, guestCtx } = await hostAndGuest(browser, request, 'final state on reload');
  await guestCtx.close(); // nobody else: the seat waits for this browser, no headless host steps in
  await changeAndClose(host, room, 'reload');
  // The same browser opens the room again: its local snapshot predates the change, the server's final state does not.
  const again = await hostCtx.newPage();
  const logs: string[] = [];
  again.on('console', (m) => logs.push(m.text()));
  await again.goto(roomPath);
  await expect(again.locator('main.room')).toHaveAttribute('data-seat', 'host');
  await waitForPrompt(again);
  await expect(again.locator('.status')).toContainText('Restored');
  expect(logs.join('\n')).toContain('restoring the room\'s saved VM');
  await typeLine(again, 'echo "got:$FINAL_VAR:$(cat ~/final.txt)"');
  await expect.poll(() => screen(again)).toMatch(/^got:var-reload:file-reload\s*$/m);
  await hostCtx.close();
});
