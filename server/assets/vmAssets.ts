import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendFile } from './rangeFile';
import { HttpError } from '../http/errors';

/** The v86 engine's own files, served from the installed npm package rather than copied. */
const V86_FILES = new Set(['libv86.js', 'libv86.mjs', 'v86.wasm', 'v86-fallback.wasm']);
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Files the browser engines read from the guest sources, e.g. CheerpX's shell integration. */
const GUEST_SOURCE_FILES: Record<string, string> = { 'tandem.bashrc': 'scripts/guest/disk/etc/bash.bashrc', 'tandem-gw': 'scripts/guest/gateway/tandem-gw' };

export function v86BuildDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('v86/package.json')), 'build');
}

/** `/vm/<name>`: guest images from public/vm, engine files from the v86 package. */
export function createVmAssetHandler(publicVmDir: string, rootDir: string) {
  const buildDir = v86BuildDir();
  return (req: IncomingMessage, res: ServerResponse, name: string): void => {
    if (!NAME_RE.test(name)) throw new HttpError('NOT_FOUND', 'no such file');
    const file = V86_FILES.has(name)
      ? path.join(buildDir, name)
      : GUEST_SOURCE_FILES[name]
        ? path.join(rootDir, GUEST_SOURCE_FILES[name])
        : path.join(publicVmDir, name);
    sendFile(req, res, fs.existsSync(file) ? file : path.join(publicVmDir, '__missing__'));
  };
}
