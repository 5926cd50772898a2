import { expect, test, type Page } from '@playwright/test';
import crypto from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { screen, typeLine, waitForPrompt } from './helpers';
import { hostAndGuest, latestStateAt, runQueued } from './handoverHelpers';

/**
 * The VM outlives its host (issue 11): the host's VM state is saved on the server, and when the
 * host's tab closes the next host — a guest who takes over, or the server's headless host —
 * resumes it: a file made and a shell variable set before the host left are still there.
 */

/** The host sets a variable and writes a file, then waits until the server holds a state made after both. */
async function leaveMarks(host: Page, room: string, tag: string) {
  await typeLine(host, `export HANDOVER_VAR=var-${tag}; echo file-${tag} > ~/handover.txt; sync; echo marks-set`);
  await expect.poll(() => screen(host)).toMatch(/^marks-set\s*$/m);
  const after = Date.now();
  await expect
    .poll(() => latestStateAt(host, room), { timeout: 90_000, message: 'the host uploads the room state once the VM is quiet' })
    .toBeGreaterThan(after);
}

test('a guest takes over when the host leaves, and finds the file and the variable', async ({ browser, request }) => {
  const { roomPath, room, host, guest, hostCtx, guestCtx } = await hostAndGuest(browser, request, 'handover by hand');
  const watcherCtx = await browser.newContext();
  const watcher = await watcherCtx.newPage();
  await watcher.goto(`${roomPath}?watch`);
  await expect(watcher.locator('main.room')).toHaveAttribute('data-seat', 'guest');

  await leaveMarks(host, room, 'hand');
  await host.close();
  await guest.getByRole('button', { name: 'Take over' }).click();
  await expect(guest.locator('main.room')).toHaveAttribute('data-seat', 'host');
  await expect(guest.getByText('You are now hosting')).toBeVisible();
  await expect(watcher.getByText(/is now hosting/)).toBeVisible();
  // The watcher joined to watch: it is never offered the VM.
  await expect(watcher.getByRole('button', { name: 'Take over' })).toHaveCount(0);
  await waitForPrompt(guest);
  await expect(guest.locator('.status')).toContainText('Restored');
  await typeLine(guest, 'echo "got:$HANDOVER_VAR:$(cat ~/handover.txt)"');
  await expect.poll(() => screen(guest)).toMatch(/^got:var-hand:file-hand\s*$/m);
  await expect.poll(() => screen(watcher)).toMatch(/^got:var-hand:file-hand\s*$/m);
  await Promise.all([hostCtx.close(), guestCtx.close(), watcherCtx.close()]);
});

test('with nobody taking over, the headless host resumes the VM and a queued command runs in the old state', async ({ browser, request }) => {
  const { room, host, guest, hostCtx, guestCtx } = await hostAndGuest(browser, request, 'handover to the server');

  await leaveMarks(host, room, 'auto');
  await host.close();
  await expect(guest.getByText('Host disconnected')).toBeVisible();
  // Nobody presses Take over: after a few seconds the server's headless host takes the seat.
  await expect(guest.getByText('VM runs on the server’s headless host')).toBeVisible({ timeout: 30_000 });
  await expect(guest.getByText(/Tandem \(headless host\) is now hosting/)).toBeVisible();
  const output = await runQueued(request, room, 'echo "cmd:$HANDOVER_VAR:$(cat ~/handover.txt)"');
  expect(output).toContain('cmd:var-auto:file-auto');
  // The guest sees it, and types again into the resumed VM.
  await expect.poll(() => screen(guest)).toMatch(/^cmd:var-auto:file-auto\s*$/m);
  await typeLine(guest, 'echo typed-$((20+22))');
  await expect.poll(() => screen(guest)).toMatch(/^typed-42\s*$/m);
  await Promise.all([hostCtx.close(), guestCtx.close()]);
});

test('a room state that does not restore: the new host boots from scratch and says so', async ({ browser, request }) => {
  const { room, host, guest, hostCtx, guestCtx } = await hostAndGuest(browser, request, 'handover of a broken state');
  const m = (await (await request.get(`/vm/manifest.json?room=${room}`)).json()) as { version: string; disk?: { version: string } };
  // The fault, injected at the boundary (the taking-over page's network): the room's newest state
  // names one VM piece, and that piece is not a v86 state (a foreign or damaged file that hashes right).
  const piece = gzipSync(crypto.randomBytes(64 * 1024));
  const hash = crypto.createHash('sha256').update(piece).digest('hex');
  const head = Buffer.alloc(36);
  Buffer.from(hash, 'hex').copy(head);
  head.writeUInt32BE(piece.length, 32);
  const manifest = { format: 'tandem-room-state-1', guestVersion: m.version, diskVersion: m.disk?.version ?? null, overlayId: 'forged', overlayGeneration: 1, vm: { chunks: [hash], bytes: piece.length }, pages: [] };
  await guest.route(`**/api/rooms/${room}/state`, (r) => r.fulfill({ json: { id: 'forged', createdAt: Date.now(), bytes: piece.length, manifest } }));
  await guest.route(`**/api/rooms/${room}/state/read`, (r) => r.fulfill({ contentType: 'application/octet-stream', body: Buffer.concat([head, piece]) }));

  await host.close();
  await guest.getByRole('button', { name: 'Take over' }).click();
  await expect(guest.locator('main.room')).toHaveAttribute('data-seat', 'host');
  await expect(guest.getByText(/The room's saved VM could not be restored \(the saved VM is not a v86 state/)).toBeVisible({ timeout: 60_000 });
  await waitForPrompt(guest);
  await expect(guest.locator('.status')).toContainText('Booted');
  await Promise.all([hostCtx.close(), guestCtx.close()]);
});
