/**
 * Boot times of the bundled v86 guest in real Chromium: cold boot to the first shell prompt
 * (OSC 133;A), and restore of a state saved right after it. Runs in a blank page of the bench
 * server's origin, loading the same /vm files the room page uses.
 */
import type { V86Options } from 'v86';
import { CHROMIUM_ARGS, findChromium } from '../../server/host/findChromium';
import type { GuestManifest } from '../../lib/shared/GuestManifest';
import { v86Options } from '../../lib/shared/v86Options';
import { DISK_CHUNK_BYTES } from '../../lib/browser/vm/BaseImageCache';

export interface BootTimes {
  coldMs: number;
  restoreMs: number;
  stateMb: number;
  /** With a root disk: bytes the browser fetched from it (Range responses' bodies) by the first prompt. */
  diskBytesToPrompt?: number;
  diskRequestsToPrompt?: number;
  diskSizeBytes?: number;
}

export async function measureBoot(baseUrl: string, runs: number): Promise<BootTimes | null> {
  const executablePath = findChromium();
  if (!executablePath) return null;
  const { chromium } = await import('playwright-core');
  const m = (await (await fetch(`${baseUrl}/vm/manifest.json`)).json()) as GuestManifest;
  // The room page's options (built in Node, handed to the page), with v86's own Range reader for
  // the disk where the page has OverlayDisk: the same machine, without the page's storage layer.
  const host = new URL(baseUrl).host;
  const hda = m.disk ? ({ url: m.disk.url, async: true, size: m.disk.size, fixed_chunk_size: DISK_CHUNK_BYTES } as V86Options['hda']) : undefined;
  // Plain objects to the page (v86's option type is too deep for Playwright's argument typing).
  const opts: BootInPage = { cold: v86Options(m, { restoring: false, hda, host }), restore: v86Options(m, { restoring: true, hda, host }), disk: m.disk ?? null };
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  try {
    const cold: number[] = [];
    const restore: number[] = [];
    let stateMb = 0;
    const disk: number[] = [];
    let diskRequests = 0;
    let diskSize: number | undefined;
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage();
      // tsx keeps function names through a `__name` helper that the page does not have.
      await page.addInitScript('window.__name = (f) => f;');
      await page.goto(`${baseUrl}/vm/manifest.json`);
      page.on('console', (m) => process.env.BOOT_DEBUG && process.stderr.write(`page: ${m.text()}\n`));
      page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
      await page.addScriptTag({ url: m.lib });
      const r = await page.evaluate(bootInPage, opts);
      cold.push(r.coldMs);
      restore.push(r.restoreMs);
      stateMb = r.stateMb;
      if (r.diskBytesToPrompt !== undefined) disk.push(r.diskBytesToPrompt);
      diskRequests = r.diskRequestsToPrompt ?? 0;
      diskSize = r.diskSizeBytes;
      await page.close();
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return {
      coldMs: median(cold),
      restoreMs: median(restore),
      stateMb,
      ...(diskSize === undefined ? {} : { diskBytesToPrompt: median(disk), diskRequestsToPrompt: diskRequests, diskSizeBytes: diskSize }),
    };
  } finally {
    await browser.close();
  }
}

/** The v86 options of a cold boot and of a restore, and the disk whose reads are counted. */
interface BootInPage {
  cold: object;
  restore: object;
  disk: { url: string; size: number } | null;
}

/** Runs inside the page (libv86 loaded): boot cold, save, boot again from the saved state. */
async function bootInPage(o: BootInPage): Promise<BootTimes> {
  type Emu = {
    add_listener(e: string, f: (x: number) => void): void;
    add_listener(e: 'emulator-loaded', f: () => void): void;
    serial0_send(s: string): void;
    save_state(): Promise<ArrayBuffer>;
    destroy(): Promise<void>;
  };
  // Every Range read must stay countable: the default buffer holds only 250 entries.
  performance.setResourceTimingBufferSize(100_000);
  performance.clearResourceTimings();
  const diskFetched = () => {
    const entries = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((e) => o.disk && new URL(e.name).pathname === o.disk.url);
    return { bytes: entries.reduce((n, e) => n + e.encodedBodySize, 0), requests: entries.length };
  };
  const V86 = (window as unknown as { V86: new (o: object) => Emu }).V86;
  const untilPrompt = (e: Emu) =>
    new Promise<void>((resolve) => {
      let tail = '';
      e.add_listener('serial0-output-byte', (b: number) => {
        tail = (tail + String.fromCharCode(b)).slice(-16);
        if (tail.includes('\x1b]133;A')) resolve();
      });
    });
  let t0 = performance.now();
  const first = new V86(o.cold);
  await untilPrompt(first);
  const coldMs = performance.now() - t0;
  const fetched = diskFetched();
  const state = await first.save_state();
  await first.destroy();
  t0 = performance.now();
  const second = new V86({ ...o.restore, initial_state: { buffer: state } });
  const prompt = untilPrompt(second);
  // The restored shell sits at its prompt: once the state is loaded, Enter asks for a fresh one.
  second.add_listener('emulator-loaded', () => setTimeout(() => second.serial0_send('\r'), 50));
  await prompt;
  const restoreMs = performance.now() - t0;
  await second.destroy();
  return {
    coldMs,
    restoreMs,
    stateMb: state.byteLength / 1024 / 1024,
    ...(o.disk ? { diskBytesToPrompt: fetched.bytes, diskRequestsToPrompt: fetched.requests, diskSizeBytes: o.disk.size } : {}),
  };
}
