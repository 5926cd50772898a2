import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { GuestManifest } from '../../lib/shared/GuestManifest';

export type { GuestManifest };

/** v86's NIC and the guest's eth0: 9000 doubles Wisp throughput against 1500 (stack-notes). */
export const VM_NET_MTU = 9000;

/** The guest's files in public/vm; their content (with v86's version) is the guest version. */
export const GUEST_FILES = ['seabios.bin', 'vgabios.bin', 'bzImage', 'initrd.cpio'] as const;

export function missingGuestFiles(publicVmDir: string): string[] {
  return GUEST_FILES.filter((f) => !fs.existsSync(path.join(publicVmDir, f)));
}

/** The Debian disk `npm run build:disk` makes; used when present and DISK_SOURCE names no other. */
export const BUILT_DISK = path.join('.cache', 'disk', 'debian-i386.ext2');
const BASE_CMDLINE = 'console=ttyS0 quiet loglevel=1 tsc=reliable mitigations=off random.trust_cpu=on';
/**
 * The guest's writes reach the browser's disk overlay only when its kernel writes dirty pages
 * back (ext2: no journal, no commit interval). Linux's defaults wait up to 30 s; these sysctls
 * (settable on the command line since Linux 5.8) make it ~2 s, so a file saved a few seconds before
 * a reload survives it. `sync` still forces it at once.
 */
const WRITEBACK_CMDLINE = 'sysctl.vm.dirty_expire_centisecs=150 sysctl.vm.dirty_writeback_centisecs=50';
const DISK_CMDLINE = `${BASE_CMDLINE} root=/dev/sda rw rootwait init=/sbin/tandem-init ${WRITEBACK_CMDLINE}`;

export interface RootDisk {
  file: string;
  size: number;
  /** Content version: the build manifest's, else size and mtime (hashing hundreds of MB at start is too slow). */
  version: string;
}

/**
 * The v86 root disk: DISK_SOURCE when it is a local path, else the built Debian disk if present.
 * URLs (http(s)://, wss://) are CheerpX disks and leave v86 on the bundled guest; `none` forces it.
 */
export function findRootDisk(rootDir: string, diskSource: string | undefined): RootDisk | { error: string } | null {
  if (diskSource === 'none') return null; // the small bundled guest, even when a disk is built
  const isUrl = diskSource !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(diskSource);
  const file = diskSource && !isUrl ? path.resolve(rootDir, diskSource) : path.join(rootDir, BUILT_DISK);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
    if (!st.isFile() || st.size < 1024 * 1024) throw new Error('not a disk image');
  } catch {
    return diskSource && !isUrl ? { error: `DISK_SOURCE ${diskSource} is not a readable disk image` } : null;
  }
  let version = `${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}`;
  let meta: { version?: unknown; size?: unknown } | null = null;
  try {
    meta = JSON.parse(fs.readFileSync(file.replace(/\.ext2$/, '.json'), 'utf8')) as { version?: unknown; size?: unknown };
  } catch {
    /* no build manifest beside it */
  }
  // A copy cut short (full disk, interrupted build or download) boots into a broken filesystem:
  // say so before anyone boots it.
  if (meta && typeof meta.size === 'number' && meta.size !== st.size)
    return { error: `the disk image ${file} is ${st.size} bytes but its build manifest says ${meta.size}: it is truncated or corrupt; rebuild it with npm run build:disk` };
  if (st.size % 512 !== 0) return { error: `the disk image ${file} is ${st.size} bytes, not a whole number of 512-byte sectors: it is truncated or corrupt` };
  if (meta && typeof meta.version === 'string' && /^[0-9a-f]{8,64}$/.test(meta.version)) version = meta.version;
  return { file, size: st.size, version };
}

export function buildGuestManifest(
  publicVmDir: string,
  v86Version: string,
  disk: RootDisk | { error: string } | null = null,
  opts: { overlayMemoryMB?: number } = {},
): GuestManifest {
  const h = crypto.createHash('sha256');
  h.update(`v86@${v86Version}\n`);
  for (const f of GUEST_FILES) h.update(fs.readFileSync(path.join(publicVmDir, f)));
  const rootDisk = disk && 'file' in disk ? disk : null;
  if (rootDisk) h.update(`disk@${rootDisk.version}\n${DISK_CMDLINE}`);
  // The network card is emulated hardware: a saved VM without it does not restore with it.
  h.update(`net@virtio-mtu${VM_NET_MTU}\n`);
  // So is COM2, the page's line to the guest's clock (V86Engine.syncGuestClock).
  h.update('uart1@clock\n');
  const version = h.digest('hex').slice(0, 16);
  const q = `?v=${version}`;
  const common = {
    version,
    engine: 'v86' as const,
    // v86 loads the initrd at the fixed address 64 MiB, so the guest needs more than that.
    memoryMB: 128,
    bios: `/vm/seabios.bin${q}`,
    vgaBios: `/vm/vgabios.bin${q}`,
    bzimage: `/vm/bzImage${q}`,
    wasm: `/vm/v86.wasm${q}`,
    lib: `/vm/libv86.js${q}`,
    net: { mtu: VM_NET_MTU },
  };
  if (rootDisk)
    return {
      ...common,
      cmdline: DISK_CMDLINE,
      disk: { url: `/vm/disk/${rootDisk.version}.ext2`, size: rootDisk.size, version: rootDisk.version, name: path.basename(rootDisk.file) },
      // How the page holds the disk's changes, not what the VM is: snapshots do not depend on it.
      ...(opts.overlayMemoryMB ? { overlayMemoryMB: opts.overlayMemoryMB } : {}),
    };
  return {
    ...common,
    ...(disk && 'error' in disk ? { diskError: disk.error } : {}),
    initrd: `/vm/initrd.cpio${q}`,
    cmdline: BASE_CMDLINE,
  };
}
