import { expect, test, type Page } from '@playwright/test';
import { createRoom, screen, signUp, typeLine, waitForPrompt } from './helpers';
import { HTTP_PORT, NET_HOST_NAME, NET_HOST_IP, TLS_PORT, netHostAvailable, startNetHost, type NetHost } from './netHost';

/**
 * The VM on the network, in a real VM on the Debian disk: its TCP goes through the server's Wisp
 * endpoint to a test host in a network namespace (the only place NET_ALLOW opens), its DNS through
 * the server's /dns-query (which knows only the test host's name).
 */
let host: NetHost | null = null;
test.beforeAll(async () => {
  if (netHostAvailable()) host = await startNetHost();
});
test.afterAll(() => host?.stop());

/** Types a line and waits until the screen matches `expected`. */
async function run(page: Page, line: string, expected: RegExp, timeout = 120_000) {
  await typeLine(page, line);
  await expect.poll(() => screen(page), { timeout }).toMatch(expected);
}

test('curl, TLS with a test CA, git clone and a checked download through the server; its own port refused; the switch cuts a download', async ({ page, request }) => {
  test.setTimeout(600_000);
  const m = (await (await request.get('/vm/manifest.json')).json()) as { disk?: unknown };
  test.skip(!m.disk, 'needs the Debian disk (npm run build:disk)');
  test.skip(!host, 'needs root for the network namespace test host');
  const port = new URL(test.info().project.use.baseURL!).port;

  await signUp(page, 'Net Owner');
  const roomPath = await createRoom(page, 'e2e network', 'disk');
  const roomId = roomPath.split('/').pop()!;
  await waitForPrompt(page);
  await expect(page.locator('.net-state')).toContainText('Internet: on — via this server');

  // DHCP runs in the background from boot; give it its few seconds.
  await run(page, 'for i in $(seq 60); do ip -4 addr show eth0 | grep -q "inet 192.168" && break; sleep 1; done; echo "dhcp-$i-done"', /dhcp-\d+-done/);

  await run(page, `curl -sS http://${NET_HOST_NAME}:${HTTP_PORT}/hello.txt`, /^hello from the test host\s*$/m);

  await run(page, `curl -sS -o /tmp/blob.bin http://${NET_HOST_NAME}:${HTTP_PORT}/blob.bin && sha256sum /tmp/blob.bin`, new RegExp(`^${host!.blobSha256}\\s+/tmp/blob.bin`, 'm'));

  // TLS end to end in the guest: the server only sees opaque bytes.
  await run(page, `curl -sS -o /tmp/ca.pem http://${NET_HOST_NAME}:${HTTP_PORT}/ca.pem && curl -sS --cacert /tmp/ca.pem https://${NET_HOST_NAME}:${TLS_PORT}/hello.txt | sed 's/^/tls: /'`, /^tls: hello from the test host\s*$/m);

  // TCP beyond HTTP.
  await run(page, `git clone -q git://${NET_HOST_NAME}/demo.git /tmp/demo && cat /tmp/demo/README`, /^cloned over git:\/\/ through Tandem\s*$/m);

  // The server itself is not reachable from the VM, even on an address NET_ALLOW opens.
  await run(page, `curl -sS --max-time 20 http://10.213.7.1:${port}/healthz; echo "healthz-rc=$?"`, /healthz-rc=[1-9]/);
  expect(await screen(page)).toMatch(/curl: \((7|52|56|28)\)/);
  expect(await screen(page)).not.toContain('"ok":true');

  // A running download, then the owner turns the room's Internet off: it is cut at once.
  // (curl creates its output file when the first body bytes arrive: data is flowing through the stream.)
  await typeLine(page, `(curl -sS -o /tmp/slow.bin http://${NET_HOST_NAME}:${HTTP_PORT}/slow; echo "slow-rc=$?") &`);
  // (The job's notice may redraw the prompt line: the marker is matched anywhere, computed so the typed line cannot match it.)
  await run(page, 'until [ -s /tmp/slow.bin ]; do sleep 0.2; done; echo "slow-$((2+3))-flowing"', /slow-5-flowing/, 60_000);
  const off = await page.request.patch(`/api/rooms/${roomId}`, { data: { internet: false } });
  expect(off.status()).toBe(200);
  await expect.poll(() => screen(page), { timeout: 30_000 }).toMatch(/slow-rc=[1-9]/);
  await expect(page.locator('.net-state')).toContainText('Internet: off');

  // The owner's audit names every connection: the test host by name, the refusal of the server's port.
  const audit = await (await page.request.get(`/api/rooms/${roomId}/net`)).json();
  const rows = audit.connections as { ip: string; port: number; name: string | null; refused: string | null; bytesDown: number }[];
  // The checked download finished; the slow one (which may also pass the blob's size before the
  // switch) was cut by it. Each is told apart by how it ended, not by which row comes first.
  const toHost = rows.filter((r) => r.ip === NET_HOST_IP && r.port === HTTP_PORT);
  expect(toHost.every((r) => r.name === NET_HOST_NAME)).toBe(true);
  expect(toHost.some((r) => r.refused === null && r.bytesDown >= host!.blobBytes)).toBe(true);
  expect(toHost.some((r) => r.refused === 'internet_off' && r.bytesDown > 0)).toBe(true);
  expect(rows.find((r) => r.ip === '10.213.7.1')).toMatchObject({ refused: 'self' });
  expect(rows.some((r) => r.port === 9418 && r.refused === null)).toBe(true);
});
