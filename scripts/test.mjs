#!/usr/bin/env node
// `npm test`: unit + integration (vitest), then end-to-end (Playwright, real Chromium, real v86 VM).
// Stops at the first failing tier; the last thing printed is the final runner's summary.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run(bin('vitest'), ['run']);
run(process.execPath, [path.join(root, 'scripts', 'install-browser.mjs')]);
run(bin('playwright'), ['test', ...process.argv.slice(2)]);
