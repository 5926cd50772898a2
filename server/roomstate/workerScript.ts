import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { RequestContext } from '../http/router';

/** The service worker that finishes a leaving host's upload (lib/browser/room/finalStateWorker.ts). */
const ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../lib/browser/room/finalStateWorker.ts');

let bundle: Promise<string> | null = null;

/**
 * Bundles the worker once (esbuild, which the server's TypeScript loader brings): it shares the
 * upload code of RoomStateClient rather than a hand-kept copy, and Next does not bundle service
 * workers. A failed build is tried again on the next request.
 */
function script(): Promise<string> {
  bundle ??= build({ entryPoints: [ENTRY], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022', minify: true, logLevel: 'silent' }).then(
    (r) => r.outputFiles[0].text,
    (e) => {
      bundle = null;
      throw e;
    },
  );
  return bundle;
}

/** GET /room-state-worker.js */
export async function serveWorkerScript({ res }: RequestContext): Promise<void> {
  const js = await script();
  res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(js) });
  res.end(js);
}
