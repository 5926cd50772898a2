import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendFile } from './rangeFile';
import { HttpError } from '../http/errors';
import { sendJson } from '../http/json';

/** A gzip'd v86 state of a 128 MiB guest is ~15 MiB; anything far beyond is not a boot snapshot. */
export const MAX_BOOT_SNAPSHOT_BYTES = 96 * 1024 * 1024;
const GZIP_MAGIC = [0x1f, 0x8b];

/** Where the boot snapshot of guest `version` is kept in `dir`. */
export const bootSnapshotFile = (dir: string, version: string) => path.join(dir, `${version}.state.gz`);

/**
 * Trusted boot snapshots: only the server's own headless browser (holding a host token) may
 * upload one, for the current guest version; every new host may download it and restore instead
 * of booting cold. A snapshot from a user's browser is never shared.
 */
export function createBootSnapshotHandler(opts: { dir: string; guestVersion: string; isTrustedHost: (token: string) => boolean }) {
  fs.mkdirSync(opts.dir, { recursive: true });
  const file = (v: string) => bootSnapshotFile(opts.dir, v);

  return async (req: IncomingMessage, res: ServerResponse, version: string): Promise<void> => {
    if (!/^[0-9a-f]{16}$/.test(version)) throw new HttpError('NOT_FOUND', 'unknown guest version');
    if (req.method === 'GET' || req.method === 'HEAD') {
      // 204, not 404: "none yet" is a normal answer, and browsers log every 404 as an error.
      if (!fs.existsSync(file(version))) return void res.writeHead(204, { 'cache-control': 'no-store' }).end();
      return sendFile(req, res, file(version), { immutable: true });
    }
    if (req.method !== 'PUT') throw new HttpError('METHOD_NOT_ALLOWED', 'use GET or PUT', { allow: 'GET, PUT' });
    const token = String(req.headers['x-host-token'] ?? '');
    if (!opts.isTrustedHost(token)) throw new HttpError('FORBIDDEN', 'only the server’s headless host may publish boot snapshots');
    if (version !== opts.guestVersion) throw new HttpError('CONFLICT', 'snapshot is for another guest version');
    const tmp = `${file(version)}.${process.pid}.${Date.now()}.tmp`;
    let size = 0;
    let head: number[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const out = fs.createWriteStream(tmp);
        req.on('data', (chunk: Buffer) => {
          if (head.length < 2) head = head.concat([...chunk.subarray(0, 2)]);
          size += chunk.length;
          if (size > MAX_BOOT_SNAPSHOT_BYTES) {
            req.destroy();
            out.destroy();
            reject(Object.assign(new Error('too large'), { code: 'TOO_LARGE' }));
          }
        });
        req.pipe(out);
        out.on('finish', resolve);
        out.on('error', reject);
        req.on('error', reject);
      });
      if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) throw Object.assign(new Error('not gzip'), { code: 'BAD_MESSAGE' });
      fs.renameSync(tmp, file(version));
      sendJson(res, 201, { ok: true, bytes: size });
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      const code = (e as { code?: string }).code;
      if (code === 'TOO_LARGE') throw new HttpError('TOO_LARGE', `snapshot over ${MAX_BOOT_SNAPSHOT_BYTES} bytes`, { connection: 'close' });
      if (code === 'BAD_MESSAGE') throw new HttpError('BAD_MESSAGE', 'snapshot must be gzip-compressed');
      throw new HttpError('BAD_MESSAGE', 'upload failed');
    }
  };
}
