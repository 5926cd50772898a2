/**
 * The VM's network, measured in a real VM: `curl` inside v86 (the Debian disk) downloads a 50 MB
 * file from a local HTTP server through the Tandem server's Wisp endpoint, and fetches a 1-byte
 * file a few times for connect + first byte. Its own Tandem server (in this process, on
 * 127.0.0.1, NET_ALLOW naming only the test server's address and port, DNS only `bench.test`)
 * and Chromium. The test server cannot listen on loopback: the guest's 127.0.0.1 is the guest
 * itself. It listens on an address of a veth pair this bench adds and removes (root only;
 * the traffic never leaves the machine), as the e2e's network namespace does.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { V86Options } from 'v86';
import { CHROMIUM_ARGS, findChromium } from '../../server/host/findChromium';
import type { GuestManifest } from '../../lib/shared/GuestManifest';
import { v86Options } from '../../lib/shared/v86Options';
import { DISK_CHUNK_BYTES } from '../../lib/browser/vm/BaseImageCache';
import { loadEnv } from '../../server/env';
import { createTandemServer } from '../../server/app';
import { open, connected } from './clients';

export interface NetFigures {
  downloadMbps: number;
  connectMs: number;
}

const DOWNLOAD_BYTES = 50 * 1024 * 1024;
const CONNECT_RUNS = 5;
/** The test server's address, on a local veth pair (not the e2e's 10.213.7.0/30: both may run at once). */
const BENCH_IP = '10.213.9.1';
const BENCH_IF = 'tdm-bench0';

/** Adds BENCH_IP on a veth pair (both ends here, no namespace); returns its removal, or null when this is not root. */
function benchAddress(): (() => void) | null {
  if (process.getuid?.() !== 0) return null;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  const remove = () => {
    try {
      ip('link', 'delete', BENCH_IF);
    } catch {
      /* not there */
    }
  };
  remove();
  try {
    ip('link', 'add', BENCH_IF, 'type', 'veth', 'peer', 'name', `${BENCH_IF}p`);
    ip('addr', 'add', `${BENCH_IP}/32`, 'dev', BENCH_IF);
    ip('link', 'set', BENCH_IF, 'up');
    ip('link', 'set', `${BENCH_IF}p`, 'up');
  } catch {
    remove();
    return null;
  }
  return remove;
}

export async function measureNet(log: (s: string) => void): Promise<NetFigures | null> {
  const executablePath = findChromium();
  if (!executablePath) return null;
  const removeAddress = benchAddress();
  if (!removeAddress) {
    log('net: needs root (ip link add … type veth) for a test server the VM can reach; skipped');
    return null;
  }
  const blob = Buffer.alloc(DOWNLOAD_BYTES, 0x5a);
  const origin = http.createServer((req, res) => {
    if (req.url === '/50m') return void res.writeHead(200, { 'content-length': blob.length }).end(blob);
    res.writeHead(200, { 'content-length': 1 }).end('x');
  });
  await new Promise<void>((r) => origin.listen(0, BENCH_IP, r));
  const originPort = (origin.address() as AddressInfo).port;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-net-'));
  const env = loadEnv({
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    HEADLESS: 'off',
    NET: 'on',
    NET_ALLOW: `${BENCH_IP}:${originPort}`,
    NET_HOSTS: `bench.test=${BENCH_IP}`,
    NET_RESOLVER: 'hosts',
  });
  const tandem = createTandemServer(env);
  const port = await tandem.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  const host = open(base, 'default', true);
  try {
    const m = (await (await fetch(`${base}/vm/manifest.json`)).json()) as GuestManifest;
    if (!m.disk || !m.net) {
      log('net: no Debian disk (npm run build:disk): the small guest has no curl, skipped');
      return null;
    }
    await connected(host);
    await new Promise((r) => setTimeout(r, 200));
    const t = (await (await fetch(`${base}/api/rooms/default/net-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sid: host.id }) })).json()) as { path: string };
    const page = await browser.newPage();
    await page.addInitScript('window.__name = (f) => f;');
    await page.goto(`${base}/vm/manifest.json`);
    page.on('pageerror', (e) => log(`net: page error ${e.message}`));
    await page.addScriptTag({ url: m.lib });
    // The room page's VM (built in Node, handed to the page), with v86's own Range reader for the disk.
    const server = `127.0.0.1:${port}`;
    const options: object = v86Options(m, {
      restoring: false,
      hda: { url: m.disk.url, async: true, size: m.disk.size, fixed_chunk_size: DISK_CHUNK_BYTES } as V86Options['hda'],
      net: { relayUrl: `wisp://${server}${t.path}`, mtu: m.net.mtu, dohServer: server },
      host: server,
    });
    const r = await page.evaluate(netInPage, { options, originPort, bytes: DOWNLOAD_BYTES, connectRuns: CONNECT_RUNS });
    return r;
  } finally {
    host.disconnect();
    await browser.close();
    await tandem.close();
    origin.close();
    removeAddress();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs inside the page (libv86 loaded): boot the disk with a NIC, wait for DHCP, run curl, read its figures. */
async function netInPage(a: { options: object; originPort: number; bytes: number; connectRuns: number }): Promise<NetFigures> {
  type Emu = { add_listener(e: string, f: (x: number) => void): void; serial0_send(s: string): void; destroy(): Promise<void> };
  // v86 asks DNS at https://<doh_server>/dns-query; this page is http: route that one URL here.
  const original = window.fetch.bind(window);
  window.fetch = (input: RequestInfo | URL, init?: RequestInit) =>
    String(input instanceof Request ? input.url : input) === `https://${location.host}/dns-query` ? original('/dns-query', init) : original(input, init);
  const V86 = (window as unknown as { V86: new (o: object) => Emu }).V86;
  const emu = new V86(a.options);
  let out = '';
  emu.add_listener('serial0-output-byte', (b: number) => {
    out = (out + String.fromCharCode(b)).slice(-20000);
  });
  const waitFor = async (re: RegExp, ms: number) => {
    const t0 = performance.now();
    while (!re.test(out)) {
      if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${re}: ${out.slice(-300)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return re.exec(out)!;
  };
  await waitFor(/\x1b\]133;A/, 180_000);
  emu.serial0_send('for i in $(seq 60); do ip -4 addr show eth0 | grep -q "inet 192" && break; sleep 1; done; echo NET""READY\n');
  await waitFor(/NETREADY/, 90_000);
  const url = `http://bench.test:${a.originPort}`;
  emu.serial0_send(
    `for i in $(seq ${a.connectRuns}); do curl -sS -o /dev/null -w 'FIRST %{time_starttransfer}\\n' ${url}/1b; done; ` +
      `curl -sS -o /dev/null -w 'DOWN %{size_download} %{time_total}\\n' ${url}/50m; echo NET""DONE\n`,
  );
  await waitFor(/NETDONE/, 600_000);
  await emu.destroy();
  const firsts = [...out.matchAll(/FIRST ([\d.]+)/g)].map((x) => Number(x[1]) * 1000).sort((x, y) => x - y);
  const down = /DOWN (\d+) ([\d.]+)/.exec(out);
  if (!down || Number(down[1]) !== a.bytes) throw new Error(`download incomplete: ${down?.[1] ?? 0} of ${a.bytes} bytes; the guest said: ${JSON.stringify(out.slice(-1500))}`);
  return { downloadMbps: Number(down[1]) / 1048576 / Number(down[2]), connectMs: firsts[Math.floor(firsts.length / 2)] ?? NaN };
}
