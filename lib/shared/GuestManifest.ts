/** What /vm/manifest.json describes: the bundled guest, and a version that keys its snapshots. */
export interface GuestManifest {
  version: string;
  engine: 'v86';
  memoryMB: number;
  bios: string;
  vgaBios: string;
  bzimage: string;
  /** Absent when the guest boots from a disk. */
  initrd?: string;
  cmdline: string;
  /** A root disk read lazily over HTTP Range (v86 `hda`), when one is configured. */
  disk?: { url: string; size: number; version: string; name: string };
  /** MiB of disk changes the page keeps in memory (OVERLAY_MEMORY_MB); not part of the version. */
  overlayMemoryMB?: number;
  /** Set when a configured disk cannot be used: the page shows it instead of booting. */
  diskError?: string;
  wasm: string;
  lib: string;
  /** The VM's network card (virtio-net over Wisp, server/net); part of the version (snapshots hold it). */
  net?: { mtu: number };
}
