import type { V86Options } from 'v86';
import type { GuestManifest } from './GuestManifest';

/** What differs between the room page's VM and the bench's: the rest comes from the manifest. */
export interface V86OptionsInput {
  /** A saved state will be restored (the caller adds `initial_state`): its memory holds kernel and initrd already. */
  restoring: boolean;
  /** The root disk: the page's OverlayDisk, or (the bench) v86's own Range reader. */
  hda?: V86Options['hda'];
  /** Where v86 draws the VGA screen; none: no screen. */
  screen?: { container: HTMLElement; graphicalText: boolean } | null;
  /** The network card's Wisp relay; without it the card has no link. */
  net?: { relayUrl: string; mtu: number; dohServer: string } | null;
  /** The page's host (`location.host`): the card's relay and DNS default to it. */
  host: string;
}

/**
 * The v86 options for a guest, built in one place: the room page (V86Engine) and the boot and
 * network benches (scripts/bench, which build them in Node and hand them to a page) start the
 * same machine, so a figure measures what users run.
 */
export function v86Options(m: GuestManifest, o: V86OptionsInput): V86Options {
  return {
    wasm_path: m.wasm,
    memory_size: m.memoryMB * 1024 * 1024,
    vga_memory_size: 2 * 1024 * 1024,
    bios: { url: m.bios },
    vga_bios: { url: m.vgaBios },
    // A saved state already holds kernel and initrd in guest memory: skip their download.
    ...(o.restoring
      ? {}
      : {
          bzimage: { url: m.bzimage },
          ...(m.initrd ? { initrd: { url: m.initrd } } : {}),
          cmdline: m.cmdline,
        }),
    // The root disk is read on demand, in chunks: the browser never downloads it whole.
    ...(o.hda ? { hda: o.hda } : {}),
    autostart: true,
    // COM2: the page's line to the guest's clock setter (SerialConsole.syncGuestClock); never the user's terminal.
    uart1: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
    ...(o.screen ? { screen: { container: o.screen.container, use_graphical_text: o.screen.graphicalText } } : { screen_container: null }),
    // Every guest of this version has the card (its snapshots include it); the relay gives it a link.
    ...(m.net
      ? {
          net_device: {
            type: 'virtio' as const,
            relay_url: o.net?.relayUrl ?? `wisp://${o.host}/net/none/`,
            mtu: o.net?.mtu ?? m.net.mtu,
            doh_server: o.net?.dohServer ?? o.host,
          },
        }
      : {}),
  };
}
