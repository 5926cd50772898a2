import { defineConfig } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findChromium } from './server/host/findChromium';

const PORT = Number(process.env.E2E_PORT ?? 3107);
// One hostname everywhere: Next builds URLs from the hostname it was given.
const HOST = 'localhost';
const chromium = findChromium() ?? undefined;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-'));

export default defineConfig({
  testDir: 'e2e',
  // A scenario boots up to three VMs on 2 cores; under load one boot can take a minute.
  timeout: 360_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://${HOST}:${PORT}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: 'node scripts/start.mjs',
    url: `http://${HOST}:${PORT}/healthz`,
    timeout: 300_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    env: { PORT: String(PORT), HOST, DATA_DIR: dataDir, LOG_LEVEL: 'warn', HEADLESS: 'auto',
      // Headless VMs a test left behind close soon instead of sharing 2 cores with later tests.
      HEADLESS_IDLE_SECONDS: '20',
      // No boot-snapshot warm-up at start (on by default in production): a headless cold boot beside
      // every run's first test would slow all of them; the first headless host publishes it as before.
      BOOT_SNAPSHOT_WARM: 'off',
      // The overlay's read-back from IndexedDB (e2e/debian-disk.spec.ts) with 20 MiB written, not 72.
      OVERLAY_MEMORY_MB: '16',
      // A closed page's final state (gzip + upload by its service worker) may take longer than the
      // production bound of 8 s on a busy 2-core machine: the final-state tests check what was restored, not how fast.
      ROOM_STATE_FINAL_WAIT_MS: '30000',
      // Tests never reach the internet: v86 by default; the fallback test routes CheerpX's CDN itself.
      VM_ENGINE: 'v86',
      API_KEY: process.env.E2E_API_KEY ?? 'e2e-api-key',
      // The VM network's e2e test host (e2e/netHost.ts): a /30 that exists only while that test runs,
      // and DNS that knows only its name. Nothing else is reachable from a test VM.
      NET_ALLOW: '10.213.7.0/30', NET_HOSTS: 'lab.tandem.test=10.213.7.2', NET_RESOLVER: 'hosts' },
  },
});
