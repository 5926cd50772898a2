/**
 * Handover and first-prompt times (issue 11), in real Chromium against the real production server
 * (`node scripts/start.mjs`: Next pages, the headless host, the built Debian disk if present) in a
 * child process on 127.0.0.1 with its own DATA_DIR:
 * - first_prompt_ms_new_room: a fresh browser profile opens a new room → shell prompt on screen
 *   (the server warmed the trusted boot snapshot at start, so it restores instead of cold-booting);
 * - handover_takeover_ms: the host's tab closes → a guest presses Take over → the guest's
 *   keystrokes are answered by the resumed VM;
 * - handover_ms: the same with nobody pressing anything: the server's headless host resumes it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium } from '../../server/host/findChromium';
import { bootPhases, formatBootPhases, type BootPhases } from './bootPhases';
import { median } from './latency';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROMPT_RE = /user@tandem:~\$/;

export interface HandoverTimes {
  first_prompt_ms_new_room: number;
  handover_takeover_ms: number;
  handover_ms: number;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

const screenText = (page: Page) => page.locator('.term:not([hidden]) .xterm-rows').innerText().catch(() => '');

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function typeLine(page: Page, line: string) {
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

async function newRoom(base: string): Promise<string> {
  const r = await fetch(`${base}/rooms/new`, { method: 'POST', body: 'name=bench', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
  return r.headers.get('location')!.split('/').pop()!;
}

async function latestStateAt(base: string, room: string): Promise<number> {
  const r = await fetch(`${base}/api/rooms/${room}/state`);
  return r.status === 200 ? ((await r.json()) as { createdAt: number }).createdAt : 0;
}

/** The guest types until the resumed VM answers; returns ms from `t0`. */
async function typingAgain(guest: Page, t0: number): Promise<number> {
  for (let i = 0; ; i++) {
    await typeLine(guest, `echo hb-$((${i}+1000))`).catch(() => {});
    const deadline = Date.now() + 500;
    while (Date.now() < deadline) {
      if (/^hb-\d{4}\s*$/m.test(await screenText(guest))) return Date.now() - t0;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (Date.now() - t0 > 120_000) throw new Error('the guest could not type again within 120 s');
  }
}

/** One handover: host boots a room, sets a mark, leaves; returns ms until the guest types again. */
async function handover(browser: Browser, base: string, takeOver: boolean): Promise<number> {
  const room = await newRoom(base);
  const hostCtx = await browser.newContext();
  const guestCtx = await browser.newContext();
  try {
    const host = await hostCtx.newPage();
    await host.goto(`${base}/r/${room}`);
    await until('host prompt', 180_000, async () => PROMPT_RE.test(await screenText(host)));
    const guest = await guestCtx.newPage();
    await guest.goto(`${base}/r/${room}`);
    await until('guest joined', 30_000, async () => (await guest.locator('main.room').getAttribute('data-seat')) === 'guest');
    await typeLine(host, 'export MARK=1; echo mark > ~/mark.txt; sync');
    const after = Date.now();
    await until('state uploaded', 120_000, async () => (await latestStateAt(base, room)) > after);
    const t0 = Date.now();
    await host.close();
    if (takeOver) await guest.getByRole('button', { name: 'Take over' }).click({ timeout: 10_000 });
    return await typingAgain(guest, t0);
  } finally {
    await Promise.all([hostCtx.close(), guestCtx.close()]);
  }
}

/** A fresh browser profile opens a new room: ms until its prompt is on screen, and where they went. */
async function firstPrompt(browser: Browser, base: string): Promise<{ ms: number; phases: BootPhases }> {
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    // Every resource stays in the timeline (a room page loads more than the default 250).
    await page.addInitScript('performance.setResourceTimingBufferSize(100000)');
    // tsx keeps function names through a `__name` helper the page does not have (bootPhases runs there).
    await page.addInitScript('window.__name = (f) => f;');
    const room = await newRoom(base);
    const t0 = Date.now();
    await page.goto(`${base}/r/${room}`);
    await until('first prompt', 180_000, async () => PROMPT_RE.test(await screenText(page)));
    const ms = Date.now() - t0;
    return { ms, phases: await bootPhases(page) };
  } finally {
    await ctx.close();
  }
}

/**
 * `firstPromptRuns` new rooms (the median is reported, the phases of the last), then the two
 * handovers unless `firstPromptOnly`.
 */
export async function measureHandover(
  log: (s: string) => void,
  o: { firstPromptRuns?: number; firstPromptOnly?: boolean } = {},
): Promise<(Partial<HandoverTimes> & { first_prompt_ms_new_room: number; phases: BootPhases }) | null> {
  const executablePath = findChromium();
  if (!executablePath) return null;
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-handover-'));
  const base = `http://localhost:${port}`;
  let child: ChildProcess | null = null;
  const { chromium } = await import('playwright-core');
  let browser: Browser | null = null;
  try {
    child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.mjs')], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), HOST: 'localhost', DATA_DIR: dataDir, HEADLESS: 'auto', VM_ENGINE: 'v86', LOG_LEVEL: 'warn', HEADLESS_IDLE_SECONDS: '30' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await until('server up', 240_000, async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok);
    const { version } = (await (await fetch(`${base}/vm/manifest.json`)).json()) as { version: string };
    log('waiting for the server to warm its boot snapshot (a headless cold boot)');
    await until('boot snapshot warmed', 240_000, async () => (await fetch(`${base}/vm/boot-snapshot/${version}`, { method: 'HEAD' })).status === 200);
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });

    const runs: { ms: number; phases: BootPhases }[] = [];
    for (let i = 0; i < (o.firstPromptRuns ?? 1); i++) {
      log('first prompt in a new room, fresh browser profile');
      const r = await firstPrompt(browser, base);
      log(`first_prompt_ms_new_room ${r.ms} ms\n${formatBootPhases(r.phases)}`);
      runs.push(r);
    }
    const first = { first_prompt_ms_new_room: median(runs.map((r) => r.ms)), phases: runs[runs.length - 1].phases };
    if (o.firstPromptOnly) return first;

    log('handover: a guest takes over');
    const takeover = await handover(browser, base, true);
    log('handover: nobody takes over (the headless host resumes the VM)');
    const auto = await handover(browser, base, false);
    return { ...first, handover_takeover_ms: takeover, handover_ms: auto };
  } finally {
    await browser?.close().catch(() => {});
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// `npm run bench:handover`: these figures alone (the full `npm run bench` includes them).
if (import.meta.url === `file://${process.argv[1]}`) {
  // --first-prompt-only [--runs N]: new rooms only (no handovers), N of them.
  const args = process.argv.slice(2);
  const runsAt = args.indexOf('--runs');
  const o = { firstPromptOnly: args.includes('--first-prompt-only'), firstPromptRuns: runsAt >= 0 ? Number(args[runsAt + 1]) : 1 };
  measureHandover((s) => process.stderr.write(`${s}\n`), o).then(
    (t) => {
      if (!t) return void process.stdout.write('no Chromium found: handover figures skipped\n');
      const { phases, ...times } = t;
      process.stdout.write(`${formatBootPhases(phases)}\n`);
      for (const [k, v] of Object.entries(times)) process.stdout.write(`${k.padEnd(28)} ${v} ms\n`);
      process.stdout.write(`load average (1, 5, 15 min): ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    },
    (err) => {
      process.stderr.write(`handover bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
