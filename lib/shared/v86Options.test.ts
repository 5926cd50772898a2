import { describe, expect, it } from 'vitest';
import type { GuestManifest } from './GuestManifest';
import { v86Options } from './v86Options';

const m: GuestManifest = {
  version: 'g1',
  engine: 'v86',
  memoryMB: 256,
  bios: '/vm/seabios.bin',
  vgaBios: '/vm/vgabios.bin',
  bzimage: '/vm/bzImage',
  cmdline: 'console=ttyS0',
  wasm: '/vm/v86.wasm',
  lib: '/vm/libv86.js',
  net: { mtu: 9000 },
};

describe('v86Options', () => {
  it('boots the kernel cold, and leaves it out when a state restores (its memory holds it)', () => {
    const cold = v86Options(m, { restoring: false, host: 'h:1' });
    expect(cold.bzimage).toEqual({ url: '/vm/bzImage' });
    expect(cold.cmdline).toBe('console=ttyS0');
    expect(cold.memory_size).toBe(256 * 1024 * 1024);
    const warm = v86Options(m, { restoring: true, host: 'h:1' });
    expect(warm.bzimage).toBeUndefined();
    expect(warm.cmdline).toBeUndefined();
  });

  it('gives every guest with a card the card: unlinked by default, the relay when given', () => {
    expect(v86Options(m, { restoring: false, host: 'h:1' }).net_device).toEqual({ type: 'virtio', relay_url: 'wisp://h:1/net/none/', mtu: 9000, doh_server: 'h:1' });
    const linked = v86Options(m, { restoring: false, host: 'h:1', net: { relayUrl: 'wisp://h:1/net/t/', mtu: 1500, dohServer: 'd' } });
    expect(linked.net_device).toEqual({ type: 'virtio', relay_url: 'wisp://h:1/net/t/', mtu: 1500, doh_server: 'd' });
    expect(v86Options({ ...m, net: undefined }, { restoring: false, host: 'h:1' }).net_device).toBeUndefined();
  });
});
