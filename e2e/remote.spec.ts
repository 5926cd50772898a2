import { expect, test, type APIRequestContext } from '@playwright/test';

const KEY = process.env.E2E_API_KEY ?? 'e2e-api-key';
/** Cold VM boots on a loaded machine take a while; the first headless boot publishes a snapshot for the rest. */
const VM_MS = 120_000;

async function newRoom(request: APIRequestContext, name: string): Promise<string> {
  const res = await request.post('/rooms/new', { form: { name }, maxRedirects: 0 });
  return res.headers().location.split('/').pop()!;
}

test('the /remote console runs one command in two rooms and shows each result live', async ({ page, request }) => {
  test.setTimeout(300_000);
  const rooms = [await newRoom(request, 'remote A'), await newRoom(request, 'remote B')];

  await page.goto('/remote');
  await page.locator('#remote-key').fill(KEY);
  await page.getByRole('button', { name: 'Load rooms' }).click();
  for (const id of rooms) await page.locator(`li[data-room="${id}"] input[type=checkbox]`).check();
  await page.getByRole('textbox', { name: 'Command', exact: true }).fill('echo $((6*7))');
  await page.getByRole('button', { name: 'Run in 2 rooms' }).click();

  // Nobody hosts these rooms: the server's headless host boots a VM for each.
  for (const id of rooms) {
    const cell = page.locator(`.remote-cell[data-room="${id}"]`);
    await expect(cell).toBeVisible();
    await expect(cell).toHaveAttribute('data-state', 'done', { timeout: VM_MS });
    await expect(cell.locator('.remote-exit')).toHaveAttribute('data-exit', '0');
    await expect(cell.locator('.remote-output')).toHaveText(/^\s*42\s*$/);
    await expect(cell.locator('.remote-duration')).toHaveText(/\d+(\.\d+)? (ms|s)$/);
  }
  // The key stays out of the URL (it lives in sessionStorage).
  expect(page.url()).not.toContain(KEY);
  expect(await page.evaluate(() => sessionStorage.getItem('tandem:remote:apiKey'))).toBe(KEY);

  // History lists the commands (here: room A's); a click shows the output.
  await page.getByRole('combobox', { name: 'History of' }).selectOption(rooms[0]);
  const history = page.locator('.remote-history tbody tr');
  await expect(history).toHaveCount(1);
  await expect(history.locator('.remote-state')).toHaveText('done');
  await history.click();
  await expect(page.locator('.remote-history-detail .remote-output')).toHaveText(/^\s*42\s*$/);

  // Watch shows the room's terminal, read-only, with the command and its output in it.
  await page.locator(`.remote-cell[data-room="${rooms[0]}"]`).getByRole('button', { name: 'Watch' }).click();
  const watch = page.locator(`.remote-watch[data-room="${rooms[0]}"]`);
  await expect(watch).toHaveAttribute('data-conn', 'connected');
  await expect.poll(() => watch.locator('.xterm-rows').innerText(), { timeout: 30_000 }).toMatch(/echo \$\(\(6\*7\)\)[\s\S]*^42\s*$/m);
});

test('the /remote console says when the API key is rejected', async ({ page }) => {
  await page.goto('/remote');
  await page.locator('#remote-key').fill('not-the-key');
  await page.getByRole('button', { name: 'Load rooms' }).click();
  await expect(page.locator('.remote-problem[role=alert]')).toContainText('API key rejected');
  await expect(page.locator('.remote-rooms')).toHaveCount(0);
});
