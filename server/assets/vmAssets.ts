import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendFile } from './rangeFile';
import { GUEST_FILES } from './guestManifest';
import { HttpError } from '../http/errors';

/** The v86 engine's own files, served from the installed npm package rather than copied. */
const V86_FILES = new Set(['libv86.js', 'libv86.mjs', 'v86.wasm', 'v86-fallback.wasm']);
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Files the browser engines read from the guest sources, e.g. CheerpX's shell integration. */
const GUEST_SOURCE_FILES: Record<string, string> = { 'tandem.bashrc': 'scripts/guest/disk/etc/bash.bashrc', 'tandem-gw': 'scripts/guest/gateway/tandem-gw' };
/** The files a guest version covers (buildGuestManifest hashes them, and v86's package version). */
const VERSIONED_FILES: readonly string[] = [...V86_FILES, ...GUEST_FILES];

export function v86BuildDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('v86/package.json')), 'build');
}

const statKey = (st: fs.Stats) => `${st.size}-${st.mtimeMs}`;

function statKeyOf(file: string): string | null {
  try {
    return statKey(fs.statSync(file));
  } catch {
    return null;
  }
}

/**
 * `/vm/<name>`: guest images from public/vm, engine files from the v86 package.
 * `?v=<version>` (the manifest's URLs carry it) gets a year's `immutable` answer only when the
 * version is one this server announces, the file is one that version covers, and the file is
 * still what it was when the version was computed (a guest rebuilt under a running server is not):
 * anything else revalidates, so no wrong or missing version pins content that may change.
 */
export function createVmAssetHandler(publicVmDir: string, rootDir: string, versions: readonly string[] = []) {
  const buildDir = v86BuildDir();
  const fileOf = (name: string) =>
    V86_FILES.has(name)
      ? path.join(buildDir, name)
      : GUEST_SOURCE_FILES[name]
        ? path.join(rootDir, GUEST_SOURCE_FILES[name])
        : path.join(publicVmDir, name);
  const atStart = new Map(VERSIONED_FILES.map((name) => [name, statKeyOf(fileOf(name))]));
  return (req: IncomingMessage, res: ServerResponse, name: string, version: string | null = null): void => {
    if (!NAME_RE.test(name)) throw new HttpError('NOT_FOUND', 'no such file');
    const known = atStart.get(name);
    const announced = version !== null && versions.includes(version) && known != null;
    // sendFile stats the file once (and answers 404 when it is missing): the same stat decides.
    sendFile(req, res, fileOf(name), { immutable: (st) => announced && statKey(st) === known });
  };
}
