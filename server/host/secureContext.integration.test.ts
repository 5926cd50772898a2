import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from './findChromium';
import { launchChromium } from './HeadlessHostPool';
import { secureContextArgs } from './internalBase';

/**
 * A server bound to an address that is not loopback (HOST=192.168.1.5, a LAN name) serves its
 * headless page from an origin browsers do not trust with Web Crypto, and a headless host without
 * it can neither save nor restore room states. The test stands such an origin up on loopback: a
 * name only this Chromium resolves (to 127.0.0.1), so no traffic leaves the machine.
 */
const chromium = findChromium();
const NAME = 'lab.tandem.test';
let srv: http.Server;
let base = '';
beforeAll(async () => {
  srv = http.createServer((_req, res) => res.end('<!doctype html><title>headless host</title>'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  base = `http://${NAME}:${(srv.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => srv.close(() => r())));

async function webCrypto(extraArgs: string[]): Promise<boolean> {
  const b = await launchChromium(chromium, [...extraArgs, `--host-resolver-rules=MAP ${NAME} 127.0.0.1`]);
  try {
    const page = await b.newPage();
    await page.goto(base);
    return await page.evaluate(() => isSecureContext && typeof crypto.subtle?.digest === 'function');
  } finally {
    await b.close();
  }
}

describe.skipIf(!chromium)('the headless page on an origin that is not loopback', () => {
  it('has Web Crypto with the arguments our headless Chromium is launched with, and would not without them', async () => {
    expect(await webCrypto([])).toBe(false);
    expect(await webCrypto(secureContextArgs(base))).toBe(true);
  });
});
