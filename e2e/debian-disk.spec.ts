import { expect, test, type Response } from '@playwright/test';
import { createRoom, newRoom, screen, signUp, typeLine, waitForPrompt } from './helpers';

/** CI builds the disk (.ci/run) and must run these tests; elsewhere they need `sudo npm run build:disk`. */
const required = !!process.env.CI || process.env.TANDEM_REQUIRE_DISK === '1';
let diskSize = 0;

test.describe('the Debian disk', () => {
  // Whatever disk the e2e server announces: the built one (.cache/disk) unless DISK_SOURCE says otherwise.
  test.beforeEach(async ({ request }) => {
    const m = (await (await request.get('/vm/manifest.json')).json()) as { disk?: { size: number } };
    test.skip(!m.disk && !required, 'the server announces no root disk: build it with `sudo npm run build:disk`');
    expect(m.disk, 'CI must build the Debian disk before the e2e suite (.ci/run runs npm run build:disk)').toBeTruthy();
    diskSize = m.disk!.size;
  });

  test('python3 runs, a file survives a reload (IndexedDB overlay), the disk is read lazily', async ({ browser }) => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const disk: { status: number; bytes: number }[] = [];
    page.on('response', (r: Response) => {
      if (!new URL(r.url()).pathname.startsWith('/vm/disk/')) return;
      disk.push({ status: r.status(), bytes: Number(r.headers()['content-length'] ?? 0) });
    });
    const roomPath = await newRoom(page.request, 'e2e debian disk');
    await page.goto(roomPath);
    await expect(page.locator('main.room')).toHaveAttribute('data-seat', 'host');
    await waitForPrompt(page);

    // python3's first start reads its interpreter and stdlib through Range (megabytes) and runs them
    // in an emulated CPU: allow it more than a shell command.
    await typeLine(page, 'python3 -c "print(2+2)"');
    await expect.poll(() => screen(page), { timeout: 120_000 }).toMatch(/^4\s*$/m);

    // The guest's writes reach the overlay when its kernel writes them back: `sync` does it now.
    await typeLine(page, 'echo hello > ~/note.txt; sync; echo saved-$((1+1))');
    await expect.poll(() => screen(page)).toMatch(/^saved-2\s*$/m);
    // The overlay persists a batch within ~50 ms of the write; give IndexedDB a moment to commit.
    await page.waitForTimeout(1000);

    // Lazy: only Range reads (206), and far less than the disk.
    expect(disk.length).toBeGreaterThan(0);
    expect(disk.every((d) => d.status === 206)).toBe(true);
    const fetched = disk.reduce((n, d) => n + d.bytes, 0);
    expect(fetched).toBeLessThan(diskSize / 8);
    test.info().annotations.push({ type: 'disk', description: `${fetched} of ${diskSize} bytes fetched by Range (${disk.length} requests)` });

    // Same browser context, so the same IndexedDB: the file is still there after a reload.
    await page.reload();
    await expect(page.locator('main.room')).toHaveAttribute('data-seat', 'host');
    await waitForPrompt(page);
    await typeLine(page, 'cat ~/note.txt');
    await expect.poll(() => screen(page)).toMatch(/^hello\s*$/m);

    // Once disk and terminal are quiet the VM is snapshotted with the overlay's generation; the
    // next reload restores it (in about a second) and the file is still there.
    await page.waitForTimeout(8000);
    await page.reload();
    await waitForPrompt(page);
    await expect(page.locator('.status')).toContainText('Restored');
    await typeLine(page, 'cat ~/note.txt; echo again-$((1+2))');
    await expect.poll(() => screen(page)).toMatch(/^again-3\s*$/m);
    expect(await screen(page)).toMatch(/^hello\s*$/m);

    // Reset VM forgetting these changes is e2e/save-vm.spec.ts's (one cold boot of the disk fewer here).
    await ctx.close();
  });

  test('disk changes larger than the overlay keeps in memory are read back from IndexedDB, intact after a reload', async ({ browser }) => {
    test.setTimeout(600_000);
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(await newRoom(page.request, 'e2e big overlay'));
    await waitForPrompt(page);
    // 20 MiB of written blocks: past the 16 MiB the e2e server lets the overlay hold in memory
    // (OVERLAY_MEMORY_MB, playwright.config.ts) and past the 8 MiB a saved VM state may carry.
    await typeLine(page, 'head -c 20971520 /dev/urandom > ~/big && sync && md5sum ~/big | cut -c1-32 | sed s/^/sum-/');
    await expect.poll(() => screen(page), { timeout: 420_000, intervals: [2000] }).toMatch(/^sum-[0-9a-f]{32}\s*$/m);
    const sum = /^sum-([0-9a-f]{32})\s*$/m.exec(await screen(page))![1];
    await page.waitForTimeout(1000); // the last batch reaches IndexedDB
    await page.reload();
    await waitForPrompt(page);
    await typeLine(page, 'md5sum ~/big | cut -c1-32 | sed s/^/again-/');
    await expect.poll(() => screen(page), { timeout: 180_000, intervals: [2000] }).toMatch(/^again-[0-9a-f]{32}\s*$/m);
    expect(/^again-([0-9a-f]{32})\s*$/m.exec(await screen(page))![1]).toBe(sum);
    await ctx.close();
  });

  test('a room made with the small guest boots BusyBox even though the server has the disk', async ({ page }) => {
    await signUp(page, 'Light');
    await expect(page.getByLabel('Guest').locator('option[value="disk"]')).toHaveText(/Debian/);
    const roomPath = await createRoom(page, 'light room', 'small');
    await waitForPrompt(page);
    await typeLine(page, 'test -e /etc/debian_version && echo is-debian || echo is-small');
    await expect.poll(() => screen(page)).toMatch(/^is-small\s*$/m);
    await page.goto('/');
    await expect(page.locator('.room-item', { has: page.locator(`a[href="${roomPath}"]`) }).getByText('small guest')).toBeVisible();
  });

  test('a disk read that fails is named in the page with a way out, not an endless spinner', async ({ page }) => {
    // As if the image on the server were cut short after the server started.
    await page.route('**/vm/disk/**', (r) => r.fulfill({ status: 416, headers: { 'content-range': 'bytes */1048576' }, body: '' }));
    await page.goto(await newRoom(page.request, 'e2e broken disk'));
    await expect(page.locator('.status.bad')).toContainText(/VM failed to start: the disk \/vm\/disk\/\S+\.ext2 ends before byte \d+ \(HTTP 416\)/);
    await expect(page.getByRole('button', { name: 'Reset VM' }).first()).toBeVisible();
  });

  test('a disk that fails while the VM runs stops it with the reason and Reset VM, not a hung shell', async ({ page }) => {
    await page.goto(await newRoom(page.request, 'e2e disk gone'));
    await waitForPrompt(page);
    // Now the image on the server is cut short; the next read of a block not yet fetched fails.
    await page.route('**/vm/disk/**', (r) => r.fulfill({ status: 416, headers: { 'content-range': 'bytes */1048576' }, body: '' }));
    await typeLine(page, 'tar cf /dev/null /usr/share /usr/lib');
    await expect(page.locator('.status.bad')).toContainText(/^The VM stopped: the disk \/vm\/disk\/\S+\.ext2 ends before byte \d+ \(HTTP 416\)/);
    await expect(page.getByRole('button', { name: 'Reset VM' }).first()).toBeVisible();
  });

  test('a corrupt disk (its superblock zeroed in transit) fails the boot at once with the kernel’s reason, not after a timeout', async ({ page }) => {
    await page.route('**/vm/boot-snapshot/**', (r) => r.fulfill({ status: 204 })); // boot cold
    await page.route('**/vm/disk/**', async (r) => {
      const res = await r.fetch();
      const body = Buffer.from(await res.body());
      // ext2's superblock lives at bytes 1024-2047 of the disk.
      if (/^bytes=0-/.test(r.request().headers()['range'] ?? '')) body.fill(0, 1024, 2048);
      await r.fulfill({ response: res, body });
    });
    await page.goto(await newRoom(page.request, 'e2e corrupt disk'));
    await expect(page.locator('.status.bad')).toContainText(/VM failed to start: the guest kernel stopped: .*mount root fs.*is the disk \/vm\/disk\/\S+ corrupt/, { timeout: 60_000 });
    await expect(page.getByRole('button', { name: 'Reset VM' }).first()).toBeVisible();
  });

  test('a damaged saved VM is ignored with a notice and the VM boots cold; full browser storage is said, with Reset VM', async ({ browser }) => {
    const ctx = await browser.newContext();
    // Storage refuses disk pages once the test says so (as a full quota would).
    await ctx.addInitScript(() => {
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof put>) {
        if (this.name === 'pages' && (window as unknown as { __storageFull?: boolean }).__storageFull) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return put.apply(this, args);
      } as typeof put;
    });
    const page = await ctx.newPage();
    const roomPath = await newRoom(page.request, 'e2e bad snapshot');
    const roomId = roomPath.split('/').pop()!;
    // A saved VM for this room that is not a v86 state, stored where the engine looks for one.
    await page.goto('/vm/manifest.json');
    await page.evaluate(async (room) => {
      const m = (await (await fetch('/vm/manifest.json')).json()) as { version: string };
      const gz = await new Response(new Blob([new Uint8Array(4096).fill(7)]).stream().pipeThrough(new CompressionStream('gzip'))).blob();
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('tandem', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('snapshots');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      await new Promise<void>((resolve, reject) => {
        const t = db.transaction('snapshots', 'readwrite');
        t.objectStore('snapshots').put({ blob: gz, tag: 'empty' }, `v86:room:${room}:main:${m.version}`);
        t.oncomplete = () => resolve();
        t.onerror = () => reject(t.error);
      });
      db.close();
    }, roomId);
    await page.goto(roomPath);
    await expect(page.getByRole('status').filter({ hasText: 'The saved VM could not be restored' })).toBeVisible();
    await waitForPrompt(page);
    // A cold boot of the Debian disk: tens of seconds on a busy 2-core machine (the prompt on screen may be the old one).
    await expect(page.locator('.status')).toContainText('Booted', { timeout: 120_000 });

    await page.evaluate(() => ((window as unknown as { __storageFull?: boolean }).__storageFull = true));
    await typeLine(page, 'echo data > ~/big.txt; sync; echo wrote-$((3+4))');
    await expect.poll(() => screen(page)).toMatch(/^wrote-7\s*$/m);
    const notice = page.getByRole('status').filter({ hasText: 'browser storage is full' });
    await expect(notice).toContainText('no longer saved');
    await expect(notice.getByRole('button', { name: 'Reset VM' })).toBeVisible();
    await ctx.close();
  });
});
