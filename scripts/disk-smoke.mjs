#!/usr/bin/env node
// Boots the Debian disk built by scripts/build-disk in v86 under Node (no browser) and checks it:
// a bash prompt with the OSC 133 marks, uid 1000 in /home/user, python3 works, Ctrl-C interrupts
// a foreground job. Prints the time to the first prompt and how much of the disk was read.
//
//   node scripts/disk-smoke.mjs [--image .cache/disk/debian-i386.ext2] [--memory 256]
//        [--chunk BYTES] [--timeout 300] [--cmdline '…'] [--echo | --trace] [--run 'cmd']…
//
// The disk is an async (range-read) image, as the browser will use it over HTTP Range: in Node,
// v86 reads ranges of the file itself, and this script counts them. --chunk sets v86's
// fixed_chunk_size (reads are rounded up to chunks, and chunks are cached); 0 (default) = v86's
// default (exact ranges, nothing cached in v86). --echo copies the guest's serial output here.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const image = path.resolve(ROOT, opt('image', '.cache/disk/debian-i386.ext2'));
const memoryMB = Number(opt('memory', '256'));
const chunk = Number(opt('chunk', '0'));
const timeoutS = Number(opt('timeout', '300'));
const echo = args.includes('--echo');
const trace = args.includes('--trace'); // each output line with the time it ended and MiB read so far
const vm = (f) => path.join(ROOT, 'public/vm', f);
const CMDLINE = opt('cmdline', 'console=ttyS0 root=/dev/sda rw rootwait init=/sbin/tandem-init quiet');

if (!fs.existsSync(image)) {
  console.error(`disk-smoke: no image at ${image}; build it with: sudo npm run build:disk`);
  process.exit(1);
}
const size = fs.statSync(image).size;

// Count the image reads v86 makes. In Node, v86 reads a range with fs/promises open() + read();
// wrap open() and re-export it to ES importers before v86 is loaded.
const reads = { bytes: 0, count: 0 };
const realOpen = fsp.open;
fsp.open = async function (file, ...rest) {
  const handle = await realOpen.call(this, file, ...rest);
  if (path.resolve(String(file)) === image) {
    const realRead = handle.read.bind(handle);
    handle.read = async (...a) => {
      const r = await realRead(...a);
      reads.bytes += r.bytesRead;
      reads.count += 1;
      return r;
    };
  }
  return handle;
};
syncBuiltinESMExports();
const { V86 } = await import('v86');

const result = { image, size, memoryMB, chunk, cmdline: CMDLINE, checks: {} };
const t0 = performance.now();
const ms = () => Math.round(performance.now() - t0);
const emulator = new V86({
  wasm_path: path.join(ROOT, 'node_modules/v86/build/v86.wasm'),
  memory_size: memoryMB * 1024 * 1024,
  vga_memory_size: 2 * 1024 * 1024,
  bios: { url: vm('seabios.bin') },
  vga_bios: { url: vm('vgabios.bin') },
  bzimage: { url: vm('bzImage') },
  cmdline: CMDLINE,
  hda: { url: image, async: true, size, ...(chunk ? { fixed_chunk_size: chunk } : {}) },
  autostart: true,
  disable_keyboard: true,
  disable_mouse: true,
  disable_speaker: true,
});

// Guest instructions executed: a measure of the guest's work that a busy host does not inflate
// (v86's counter is 32 bits and wraps every few seconds, so it is summed in small steps).
let instructions = 0;
let lastCounter = 0;
const sampler = setInterval(() => {
  const c = emulator.get_instruction_counter();
  instructions += (c - lastCounter) >>> 0;
  lastCounter = c;
}, 20);
const mips = () => {
  const c = emulator.get_instruction_counter();
  return Math.round((instructions + ((c - lastCounter) >>> 0)) / 1e6);
};

// Serial output as text, with the OSC 133 marks found in it.
let out = '';
const decoder = new TextDecoder();
let waiters = [];
emulator.add_listener('serial0-output-byte', (b) => {
  const s = decoder.decode(new Uint8Array([b]), { stream: true });
  if (!s) return;
  result.firstOutputMs ??= ms();
  out += s;
  if (echo) process.stdout.write(s);
  if (trace && s === '\n') {
    const line = out.slice(out.lastIndexOf('\n', out.length - 2) + 1, -1).replace(/[\r\x07]/g, '').replace(/\x1b/g, '^[');
    console.error(`[${String(ms()).padStart(6)} ms ${(reads.bytes / 1048576).toFixed(1).padStart(5)} MiB] ${line}`);
  }
  waiters = waiters.filter((w) => !w());
});
/** Resolves when `test(out)` returns a value (checked on every byte), or rejects after `ms`. */
function waitFor(test, what, timeout = timeoutS * 1000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; last output:\n${out.slice(-600)}`)), timeout);
    const check = () => {
      const v = test(out);
      if (v === undefined || v === null || v === false) return false;
      clearTimeout(timer);
      resolve(v);
      return true;
    };
    if (!check()) waiters.push(check);
  });
}
const MARK = (c) => `\x1b]133;${c}\x07`;
const promptEnd = MARK('B');

/** Types a command at the prompt; resolves with its output (between C and D) and exit code. */
async function run(cmd, { interruptAfterMs } = {}) {
  const from = out.length;
  emulator.serial0_send(`${cmd}\n`);
  const started = await waitFor((o) => { const i = o.indexOf(MARK('C'), from); return i >= 0 ? i : null; }, `C after: ${cmd}`);
  const tC = performance.now();
  if (interruptAfterMs) setTimeout(() => emulator.serial0_send('\x03'), interruptAfterMs);
  const m = await waitFor((o) => {
    const r = /\x1b\]133;D;(-?\d+)\x07/g;
    r.lastIndex = started;
    const d = r.exec(o);
    if (!d) return null;
    return o.indexOf(promptEnd, d.index) >= 0 ? d : null; // and the next prompt is there
  }, `D after: ${cmd}`);
  const output = out.slice(started + MARK('C').length, m.index).replace(/\r/g, '');
  return { output, exitCode: Number(m[1]), ms: Math.round(performance.now() - tC) };
}

let ok = true;
const check = (name, pass, detail) => {
  result.checks[name] = { pass, ...detail };
  if (!pass) ok = false;
  console.error(`disk-smoke: ${pass ? 'ok  ' : 'FAIL'} ${name} ${JSON.stringify(detail)}`);
};

try {
  await new Promise((r) => emulator.add_listener('emulator-loaded', r));
  result.loadedMs = ms();
  await waitFor((o) => o.includes(MARK('A')) && o.indexOf(promptEnd, o.indexOf(MARK('A'))) >= 0, 'the first prompt');
  result.promptMs = ms();
  result.readToPrompt = { bytes: reads.bytes, requests: reads.count };
  result.instructionsToPromptM = mips();
  // Readline turns bracketed paste on (ESC[?2004h) as it draws the prompt: not prompt text.
  const firstPrompt = out.slice(out.lastIndexOf(MARK('A')) + MARK('A').length, out.lastIndexOf(promptEnd))
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  console.error(`disk-smoke: prompt after ${(result.promptMs / 1000).toFixed(1)} s, ` +
    `${(reads.bytes / 1048576).toFixed(1)} MiB read from the disk in ${reads.count} reads, ` +
    `${result.instructionsToPromptM} M guest instructions`);
  check('prompt', firstPrompt === 'user@tandem:~$ ', { prompt: firstPrompt });

  const who = await run('echo "$(id -un):$(id -u):$(shopt -q login_shell && echo login):$PWD:$HOME:$TERM:$(hostname)"');
  check('identity', who.output.trim() === 'user:1000:login:/home/user:/home/user:xterm-256color:tandem' && who.exitCode === 0, who);

  const py = await run('python3 -c "print(2+2)"');
  check('python3', py.output.trim() === '4' && py.exitCode === 0, py);
  const py2 = await run('python3 -c "print(2+2)"');
  result.python = { coldMs: py.ms, warmMs: py2.ms, output: py.output.trim() };

  const fail = await run('false');
  check('exit status in D', fail.exitCode === 1, fail);

  const sleep = await run('sleep 30', { interruptAfterMs: 1500 });
  check('Ctrl-C interrupts', sleep.exitCode === 130 && sleep.ms < 10000, sleep);

  // --run 'cmd' (repeatable): extra commands, their output printed (for looking around in the guest).
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '--run') continue;
    const r = await run(args[i + 1]);
    console.error(`disk-smoke: $ ${args[i + 1]}  (exit ${r.exitCode}, ${r.ms} ms)\n${r.output}`);
  }
  result.readTotal = { bytes: reads.bytes, requests: reads.count };
  result.totalMs = ms();
} catch (e) {
  ok = false;
  result.error = String(e?.message ?? e);
  console.error(`disk-smoke: ${result.error}`);
}
clearInterval(sampler);
result.ok = ok;
console.log(JSON.stringify(result, null, 2));
await Promise.race([emulator.destroy(), new Promise((r) => setTimeout(r, 2000))]);
process.exit(ok ? 0 : 1);
