#!/usr/bin/env node
// Finds a Chromium for Playwright. Playwright cannot download browsers here, so we use the
// system's: CHROMIUM_PATH, else /usr/bin/chromium; on Debian as root it is installed through apt.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';

export const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv && fs.existsSync(fromEnv)) return fromEnv;
  return CANDIDATES.find((p) => fs.existsSync(p)) ?? null;
}

function aptInstall() {
  const isDebian = fs.existsSync('/etc/debian_version');
  const isRoot = process.getuid?.() === 0;
  if (!isDebian || !isRoot) return false;
  console.log('install-browser: installing Debian chromium through apt…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (let i = 0; i < 3; i++) {
    if (spawnSync('apt-get', ['update', '-o', 'DPkg::Lock::Timeout=600'], { stdio: 'inherit', env }).status === 0) break;
  }
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600', 'chromium'], { stdio: 'inherit', env });
  return r.status === 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let p = findChromium();
  if (!p && aptInstall()) p = findChromium();
  if (!p) {
    console.error(
      'install-browser: no Chromium found. Install one and retry:\n' +
        '  Debian/Ubuntu: sudo apt-get install -y chromium\n' +
        '  elsewhere: install Chromium or Chrome and set CHROMIUM_PATH=/path/to/chrome',
    );
    process.exit(1);
  }
  try {
    console.log(`install-browser: using ${p} (${execFileSync(p, ['--version'], { encoding: 'utf8' }).trim()})`);
  } catch {
    console.log(`install-browser: using ${p}`);
  }
}
