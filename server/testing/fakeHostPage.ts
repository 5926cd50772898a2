import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { NextHandler } from '../app';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The host page: connects with the host token from the URL and answers as a shell. */
const PAGE_SCRIPT = `
import { io } from 'socket.io-client';
import { PROTOCOL_VERSION } from '../../lib/shared/protocol';
import { hostFakeShell } from './FakeShell';
const room = location.pathname.split('/').pop();
const hostToken = new URLSearchParams(location.hash.slice(1)).get('host') ?? undefined;
const s = io({ path: '/socket.io', transports: ['websocket'], auth: { v: PROTOCOL_VERSION, room, clientId: 'headless-' + Math.random().toString(36).slice(2, 12), wantHost: true, hostToken } });
s.once('room:state', (st) => { if (st.seat === 'host') hostFakeShell(s); });
`;

/**
 * With saveOnYield: asked to yield (host:yield), the page saves a small state of its "VM" through
 * the real RoomStateClient with its host key (a v86 state's magic and some bytes), then gives the
 * VM, as the real page does (RoomSession.give).
 */
const SAVE_ON_YIELD = `
import { RoomStateClient } from '../../lib/browser/vm/RoomStateClient';
let hostKey;
s.on('room:state', (st) => { if (st.seat === 'host') hostKey = st.hostKey; });
const gzip = async (b) => new Response(new Blob([b]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
s.on('host:yield', async (y) => {
  const m = await (await fetch('/vm/manifest.json?room=' + room)).json();
  const raw = new Uint8Array(4096);
  new DataView(raw.buffer).setUint32(0, 0x86768676, true);
  crypto.getRandomValues(raw.subarray(4));
  await new RoomStateClient({ room, hostKey: () => hostKey, hostToken }).upload({ vmGz: await gzip(raw), pages: [], guestVersion: m.version, diskVersion: m.disk?.version ?? null, overlayId: null, overlayGeneration: 0 });
  s.emit('host:give', { to: y.peer });
});
`;

/**
 * What Next would serve at /r/<room> for the server's headless host, as a stand-in for the VM:
 * the tests' FakeShell, bundled for the browser, hosting over the real Socket.IO protocol. For
 * integration tests that run the real HeadlessHostPool in a real Chromium (heavy: flock /tmp/heavy.lock).
 */
export async function fakeHostPages(o: { saveOnYield?: boolean } = {}): Promise<NextHandler> {
  const contents = PAGE_SCRIPT + (o.saveOnYield ? SAVE_ON_YIELD : '');
  const bundle = await build({ stdin: { contents, resolveDir: here, loader: 'ts' }, bundle: true, write: false, format: 'iife', platform: 'browser', logLevel: 'silent' });
  const html = `<!doctype html><title>host</title><script>${bundle.outputFiles[0].text.replace(/<\/script/g, '<\\/script')}</script>`;
  return (req, res) => {
    if (!req.url?.startsWith('/r/')) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  };
}
