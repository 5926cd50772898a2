/** What /vm/manifest.json describes: the bundled guest, and a version that keys its snapshots. */
export interface GuestManifest {
  version: string;
  engine: 'v86';
  memoryMB: number;
  bios: string;
  vgaBios: string;
  bzimage: string;
  initrd: string;
  cmdline: string;
  wasm: string;
  lib: string;
}
