import path from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { Env } from '../env';
import { verifyHostToken } from '../auth/hostToken';
import { createVmAssetHandler } from '../assets/vmAssets';
import { bootSnapshotFile, createBootSnapshotHandler } from '../assets/bootSnapshots';
import { buildGuestManifest, findRootDisk, missingGuestFiles } from '../assets/guestManifest';

/**
 * What the pages boot: the guest's files in public/vm (refused at start when some are missing), the
 * announced root disk, the manifests the pages read, and the handlers that serve the files and the
 * trusted boot snapshot.
 */
export function guestFiles(d: { env: Env; rootDir: string; dataDir: string; secret: string; log: Logger }) {
  const publicVm = path.join(d.rootDir, 'public', 'vm');
  const missing = missingGuestFiles(publicVm);
  if (missing.length) throw new Error(`guest files missing in public/vm: ${missing.join(', ')} (run scripts/build-guest)`);
  const v86Version = (createRequire(import.meta.url)('v86/package.json') as { version: string }).version;
  const rootDisk = findRootDisk(d.rootDir, d.env.DISK_SOURCE);
  if (rootDisk && 'error' in rootDisk) d.log.error({ disk: d.env.DISK_SOURCE }, rootDisk.error);
  const guest = buildGuestManifest(publicVm, v86Version, rootDisk, { overlayMemoryMB: d.env.OVERLAY_MEMORY_MB });
  // The bundled guest, also when a root disk is announced: /alpine's v86 screen needs its login
  // shell on the VGA console (tty1), which the Debian disk does not run (its shell is on ttyS0).
  const bundledGuest = rootDisk && 'file' in rootDisk ? buildGuestManifest(publicVm, v86Version, null) : guest;
  const snapshotDir = path.join(d.dataDir, 'snapshots');
  return {
    guest,
    bundledGuest,
    rootDiskFile: rootDisk && 'file' in rootDisk ? rootDisk.file : null,
    // Both guests' versions: each names the same engine and image files (the disk is served apart).
    vmAsset: createVmAssetHandler(publicVm, d.rootDir, [guest.version, bundledGuest.version]),
    bootSnapshot: createBootSnapshotHandler({
      dir: snapshotDir,
      guestVersion: guest.version,
      // Any room's valid host token: the headless browser is the server's own.
      isTrustedHost: (token) => verifyHostToken(d.secret, token, token.split('.')[0] ?? ''),
    }),
    /** Where the trusted boot snapshot of this guest version lives. */
    bootSnapshotFile: bootSnapshotFile(snapshotDir, guest.version),
  };
}
