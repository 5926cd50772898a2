import type { TailscaleLink } from './tailscale';

type CX = typeof import('@leaningtech/cheerpx');
export type CheerpXLinux = InstanceType<CX['Linux']>;

/**
 * A CheerpX Linux with Tandem's mounts, for both the Debian terminal and /alpine: the root disk
 * (a `wss://` cloud disk or an http(s) image read by Range) under an IndexedDB copy-on-write
 * overlay, a DataDevice at /data for files we inject, /dev and /proc, and the Tailscale link.
 */
export async function createCheerpXLinux(
  mod: CX,
  opts: {
    disk: string;
    overlayKey: string;
    link: TailscaleLink;
    files?: Record<string, string>;
    onMounted?: () => void;
    /** Gets /data's writer, for files written while the VM runs (the gateway wrappers' answers). */
    onData?: (writeFile: (path: string, text: string) => Promise<void>) => void;
  },
): Promise<CheerpXLinux> {
  const { Linux, CloudDevice, HttpBytesDevice, IDBDevice, OverlayDevice, DataDevice } = mod;
  const base = opts.disk.startsWith('wss://') ? await CloudDevice.create(opts.disk) : await HttpBytesDevice.create(opts.disk);
  const overlay = await OverlayDevice.create(base, await IDBDevice.create(opts.overlayKey));
  const data = await DataDevice.create();
  for (const [name, text] of Object.entries(opts.files ?? {})) await data.writeFile(name, text);
  opts.onData?.((path, text) => data.writeFile(path, text));
  opts.onMounted?.();
  const cx = await Linux.create({
    mounts: [
      { type: 'ext2', path: '/', dev: overlay },
      { type: 'dir', path: '/data', dev: data },
      { type: 'devs', path: '/dev', dev: data },
      { type: 'proc', path: '/proc', dev: data },
    ],
    networkInterface: opts.link.networkInterface,
  });
  opts.link.attach(cx);
  return cx;
}
