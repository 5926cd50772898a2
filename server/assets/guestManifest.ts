import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { GuestManifest } from '../../lib/vm/GuestManifest';

export type { GuestManifest };

const FILES = ['seabios.bin', 'vgabios.bin', 'bzImage', 'initrd.cpio'] as const;

export function missingGuestFiles(publicVmDir: string): string[] {
  return FILES.filter((f) => !fs.existsSync(path.join(publicVmDir, f)));
}

export function buildGuestManifest(publicVmDir: string, v86Version: string): GuestManifest {
  const h = crypto.createHash('sha256');
  h.update(`v86@${v86Version}\n`);
  for (const f of FILES) h.update(fs.readFileSync(path.join(publicVmDir, f)));
  const version = h.digest('hex').slice(0, 16);
  const q = `?v=${version}`;
  return {
    version,
    engine: 'v86',
    // v86 loads the initrd at the fixed address 64 MiB, so the guest needs more than that.
    memoryMB: 128,
    bios: `/vm/seabios.bin${q}`,
    vgaBios: `/vm/vgabios.bin${q}`,
    bzimage: `/vm/bzImage${q}`,
    initrd: `/vm/initrd.cpio${q}`,
    cmdline: 'console=ttyS0 quiet loglevel=1 tsc=reliable mitigations=off random.trust_cpu=on',
    wasm: `/vm/v86.wasm${q}`,
    lib: `/vm/libv86.js${q}`,
  };
}
