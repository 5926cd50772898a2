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
// For the browser-side test helpers bundled beside this script (see fakeHostPages' saveOnYield).
globalThis.tandemTestHost = { socket: s, room, hostToken };
`;
/** saveOnYield: asked to yield, the page saves a small state through the real RoomStateClient, then gives the VM. */
const SAVE_ON_YIELD = path.resolve(here, '../../lib/browser/room/testing/saveOnYield.ts');

/**
 * What Next would serve at /r/<room> for the server's headless host, as a stand-in for the VM:
 * the tests' FakeShell, bundled for the browser, hosting over the real Socket.IO protocol. For
 * integration tests that run the real HeadlessHostPool in a real Chromium (heavy: flock /tmp/heavy.lock).
 */
export async function fakeHostPages(o: { saveOnYield?: boolean } = {}): Promise<NextHandler> {
  const opts = { bundle: true, write: false, format: 'iife', platform: 'browser', logLevel: 'silent' } as const;
  const scripts = [(await build({ ...opts, stdin: { contents: PAGE_SCRIPT, resolveDir: here, loader: 'ts' } })).outputFiles[0].text];
  if (o.saveOnYield) scripts.push((await build({ ...opts, entryPoints: [SAVE_ON_YIELD] })).outputFiles[0].text);
  const html = `<!doctype html><title>host</title>${scripts.map((js) => `<script>${js.replace(/<\/script/g, '<\\/script')}</script>`).join('')}`;
  return (req, res) => {
    if (!req.url?.startsWith('/r/')) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  };
}
