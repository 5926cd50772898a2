import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { newRoom, screen, typeLine, waitForPrompt } from './helpers';
import { parseCastText, replayScreen } from '../server/testing/castReplay';
import { freePort } from '../server/testing/freePort';

const replayText = (page: Page) => page.getByTestId('replay-term').locator('.xterm-rows').innerText();
const trimLines = (s: string) =>
  s
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n+$/, '');

test('the replay page plays a recorded session, seeks, jumps to command blocks and searches; the export replays to the mirror’s screen', async ({ browser }) => {
  const hostCtx = await browser.newContext();
  const host = await hostCtx.newPage();
  const roomPath = await newRoom(host.request, 'e2e replay');
  const roomId = roomPath.split('/').pop()!;
  await host.goto(roomPath);
  await waitForPrompt(host);
  await typeLine(host, 'echo replay-$((6*7))');
  await expect.poll(() => screen(host)).toMatch(/^replay-42\s*$/m);
  // Short enough that `replay-42` stays on the screen above it.
  await typeLine(host, 'seq 101 112');
  await expect.poll(() => screen(host)).toMatch(/^112\s*$/m);
  await host.waitForTimeout(500);

  // The export (asciicast v2) replays to what a late guest gets from the server's headless mirror.
  const guestCtx = await browser.newContext();
  const guest = await guestCtx.newPage();
  await guest.goto(roomPath);
  await expect.poll(() => screen(guest)).toMatch(/^112\s*$/m);
  const cast = parseCastText(await (await host.request.get(`/api/rooms/${roomId}/recordings/main/export.cast`)).text());
  const exported = await replayScreen({ cols: cast.header.width, rows: cast.header.height, events: cast.events });
  expect(trimLines(exported)).toContain('replay-42');
  // From the first command on (the rows above it are blank or the banner, depending on where each scrolled).
  const fromCommand = (text: string) => trimLines(text).slice(trimLines(text).indexOf('user@tandem:~$ echo replay'));
  expect(fromCommand(exported)).toBe(fromCommand(await screen(guest)));

  const viewerCtx = await browser.newContext();
  const viewer = await viewerCtx.newPage();
  await viewer.goto(`${roomPath}/replay`);
  await expect(viewer.getByRole('button', { name: 'Play' })).toBeEnabled();
  // Starts at the beginning: nothing typed yet.
  expect(await replayText(viewer)).not.toContain('replay-42');
  await viewer.getByLabel('Speed').selectOption('16');
  await viewer.getByRole('button', { name: 'Play' }).click();
  await expect.poll(() => replayText(viewer), { timeout: 60_000 }).toMatch(/^replay-42\s*$/m);

  // At 16× the short session plays to its end within seconds; the button then reads Play again.
  // (Clicking Pause instead races that end: a click landing just after it restarts the replay.)
  await expect(viewer.getByRole('button', { name: 'Play' })).toBeVisible({ timeout: 60_000 });

  // Scrubber, by keyboard as a user would (real input events): back to the start (empty again), to the end (the last screen).
  const scrubber = viewer.getByLabel('Position');
  await scrubber.focus();
  await scrubber.press('Home');
  await expect.poll(() => replayText(viewer)).not.toContain('replay-42');
  await expect(viewer.getByTestId('replay-time')).toContainText(/^0:00\.0 \//);
  await scrubber.press('End');
  await expect.poll(() => replayText(viewer)).toMatch(/^112\s*$/m);
  await scrubber.press('Home');
  await expect.poll(() => replayText(viewer)).not.toContain('replay-42');

  // Command blocks from the shell's marks: jump to `seq`, whose output follows.
  const blocks = viewer.getByRole('list', { name: 'Command blocks' });
  await expect(blocks).toContainText('$ seq 101 112');
  await blocks.getByRole('listitem').filter({ hasText: '$ seq 101 112' }).getByRole('button').click();
  await expect.poll(() => replayText(viewer)).toMatch(/^replay-42\s*$/m);
  expect(await replayText(viewer)).not.toMatch(/^112\s*$/m);

  // Search.
  await viewer.getByLabel('Search the output').fill('replay-42');
  await viewer.getByRole('button', { name: 'Search' }).click();
  await expect(viewer.getByRole('list', { name: 'Search results' })).toContainText('replay-42');
  await expect(viewer.getByRole('button', { name: 'Open a live VM from here' })).toBeDisabled();
  // Every context closed: a page left open keeps its VM (or the headless host's) running for the rest of the suite.
  await Promise.all([hostCtx, guestCtx, viewerCtx].map((c) => c.close()));
});

/** The production server (Next included, built by the suite's web server) in a process of our own, so it can be killed. */
async function startOwnServer(dataDir: string, port: number): Promise<ChildProcess> {
  const root = path.resolve(import.meta.dirname, '..');
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server', 'index.ts')], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', PORT: String(port), HOST: 'localhost', DATA_DIR: dataDir, LOG_LEVEL: 'warn', HEADLESS: 'off', VM_ENGINE: 'v86' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server did not start')), 60_000);
    proc.stdout!.on('data', (b: Buffer) => b.toString().includes('Tandem is running') && (clearTimeout(t), resolve()));
    proc.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return proc;
}

test('kill -9 of the server mid-session: host and guest pages recover without a reload, output neither lost nor doubled', async ({ browser }) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-kill-'));
  const port = await freePort();
  const base = `http://localhost:${port}`;
  let server = await startOwnServer(dataDir, port);
  const contexts = [await browser.newContext({ baseURL: base }), await browser.newContext({ baseURL: base })];
  try {
    const host = await contexts[0].newPage();
    const roomPath = await newRoom(host.request, 'e2e restart');
    const roomId = roomPath.split('/').pop()!;
    await host.goto(roomPath);
    await waitForPrompt(host);
    // The guest watches: were the host page to reconnect after the seat's keep time, the guest must not take its seat.
    const guest = await contexts[1].newPage();
    await guest.goto(`${roomPath}?watch`);
    await expect(guest.locator('main.room')).toHaveAttribute('data-seat', 'guest');
    await typeLine(guest, 'echo before-$((1+1))');
    await expect.poll(() => screen(guest)).toMatch(/^before-2\s*$/m);
    await Promise.all([host, guest].map((p) => p.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true))));

    // Output goes on while the server dies and while it is gone: the host's VM keeps running, and what
    // it prints reaches the room (and the recording) once the server is back.
    await typeLine(guest, 'for i in $(seq 1 40); do echo tick-$i; sleep 0.2; done');
    await expect.poll(() => screen(guest)).toMatch(/^tick-3\s*$/m);
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    await expect(guest.locator('main.room')).toHaveAttribute('data-conn', 'reconnecting');
    server = await startOwnServer(dataDir, port);
    const back = Date.now();
    await expect(guest.locator('main.room')).toHaveAttribute('data-conn', 'connected', { timeout: 10_000 });
    await expect(host.locator('main.room')).toHaveAttribute('data-conn', 'connected', { timeout: 10_000 });
    console.log(`pages reconnected ${Date.now() - back} ms after the server was back`);
    await expect(host.locator('main.room')).toHaveAttribute('data-seat', 'host');

    await expect.poll(() => screen(guest), { timeout: 30_000 }).toMatch(/^tick-40\s*$/m);
    // The guest's screen shows the ticks in order, none missing, none twice.
    const shown = (await screen(guest)).match(/^tick-\d+/gm)!.map((t) => Number(t.slice(5)));
    expect(shown).toEqual(Array.from({ length: shown.length }, (_, i) => 41 - shown.length + i));
    await typeLine(guest, 'echo after-$((2+3))');
    await expect.poll(() => screen(guest)).toMatch(/^after-5\s*$/m);
    await expect.poll(() => screen(host)).toMatch(/^after-5\s*$/m);
    for (const p of [host, guest]) expect(await p.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

    // The recording: every line exactly once, in order, across the kill (the command lines echo
    // `before-$((1+1))` and `tick-$i`, so only the outputs match these). It replays to the guest's screen.
    const cast = parseCastText(await (await host.request.get(`/api/rooms/${roomId}/recordings/main/export.cast`)).text());
    const text = cast.events.filter((e) => e[1] === 'o').map((e) => e[2]).join('');
    expect(text.match(/before-2/g)).toHaveLength(1);
    expect(text.match(/after-5/g)).toHaveLength(1);
    expect(text.match(/tick-\d+/g)).toEqual(Array.from({ length: 40 }, (_, i) => `tick-${i + 1}`));
    const replayed = await replayScreen({ cols: cast.header.width, rows: cast.header.height, events: cast.events });
    const fromAfter = (t: string) => trimLines(t).slice(trimLines(t).lastIndexOf('tick-38'));
    expect(fromAfter(replayed)).toBe(fromAfter(await screen(guest)));
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
    server.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
