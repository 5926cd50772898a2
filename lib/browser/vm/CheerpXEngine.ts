import type { BootProgress, Engine } from './Engine';
import { ShellIntegration } from '../../shared/ShellIntegration';
import { TailscaleLink } from './tailscale';
import type { TailscaleControl } from './ScreenVm';
import { createCheerpXLinux } from './cheerpxLinux';
import { CHEERPX_LOAD_TIMEOUT_MS, CHEERPX_URL } from '../../shared/engines';
import { GuestGateway } from './GuestGateway';

/**
 * Appended to the shell's rc file when the gateway wrappers are on: DataDevice files cannot be
 * executed (CheerpX gives them no mode bits), so they are copied to a bin dir put first on PATH.
 */
const GATEWAY_RC = `
if [ -r /data/tandem-gw ]; then
  __tgw="$HOME/.local/share/tandem/bin"
  mkdir -p "$__tgw" && for __t in curl wget; do cp /data/tandem-gw "$__tgw/$__t" && chmod +x "$__tgw/$__t"; done
  PATH="$__tgw:$PATH"; unset __tgw __t
fi
`;

type CX = typeof import('@leaningtech/cheerpx');

export async function loadCheerpX(timeoutMs = CHEERPX_LOAD_TIMEOUT_MS): Promise<CX> {
  if (!globalThis.crossOriginIsolated) throw new Error('CheerpX needs a cross-origin isolated page (COOP/COEP headers)');
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      import(/* webpackIgnore: true */ /* turbopackIgnore: true */ CHEERPX_URL) as Promise<CX>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`CheerpX did not load within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CheerpXOptions {
  /** wss:// CloudDevice disk or http(s):// disk served with Range. */
  disk: string;
  /** Keys the copy-on-write overlay in IndexedDB: one per room and disk. */
  overlayKey: string;
  /** Shell integration rc file contents, written into /data. */
  bashrc: string;
  /** curl/wget through POST /api/gateway (scripts/guest/gateway/tandem-gw); null: the image's own. */
  gateway: { room: string; netToken: string; script: string } | null;
  cols: number;
  rows: number;
}

/**
 * Debian on CheerpX: the disk streamed from `disk`, writes kept in an IndexedDB overlay, bash as
 * uid 1000 in /home/user. Only reachable online (the engine comes from the vendor's CDN).
 */
export class CheerpXEngine implements Engine {
  readonly name = 'cheerpx' as const;
  private cx: InstanceType<CX['Linux']> | null = null;
  private send: ((key: number) => void) | null = null;
  private listeners: ((data: string) => void)[] = [];
  private decoder = new TextDecoder();
  private encoder = new TextEncoder();
  private shell = new ShellIntegration();
  private link = new TailscaleLink();
  private gateway: GuestGateway | null = null;
  /** "Connect to Tailscale": login URL, state and tailnet IP through CheerpX's network interface. */
  readonly tailscale: TailscaleControl = this.link;

  constructor(
    private mod: CX,
    private opts: CheerpXOptions,
  ) {}

  onOutput(cb: (data: string) => void): void {
    this.listeners.push(cb);
  }

  write(data: string): void {
    if (!this.send) return;
    for (const b of this.encoder.encode(data)) this.send(b);
  }

  resize(): void {
    // setCustomConsole fixes the size at creation; CheerpX has no resize call yet.
  }

  async boot(onProgress: (p: BootProgress) => void): Promise<{ restored: boolean; ms: number }> {
    const t0 = performance.now();
    onProgress({ phase: 'loading', progress: 0.1, message: `Opening disk ${this.opts.disk}` });
    const gw = this.opts.gateway;
    let show: (text: string) => void = () => {};
    const cx = await createCheerpXLinux(this.mod, {
      disk: this.opts.disk,
      overlayKey: this.opts.overlayKey,
      link: this.link,
      files: gw ? { '/tandem.bashrc': this.opts.bashrc + GATEWAY_RC, '/tandem-gw': gw.script, '/tandem-gw.mode': 'gateway' } : { '/tandem.bashrc': this.opts.bashrc },
      onMounted: () => onProgress({ phase: 'booting', progress: 0.4, message: 'Starting Linux (CheerpX)' }),
      onData: (writeFile) => {
        if (!gw) return;
        this.gateway = new GuestGateway({ baseUrl: '', room: gw.room, netToken: gw.netToken, writeFile: (name, text) => writeFile(`/${name}`, text), output: (t) => show(t) });
        // With Tailscale up the guest has real TCP: the wrappers step aside for the image's curl/wget.
        this.link.onChange((st) => void writeFile('/tandem-gw.mode', st.state === 'Running' ? 'tailscale' : 'gateway').catch(() => {}));
      },
    });
    this.cx = cx;
    const prompt = new Promise<void>((resolve) => {
      show = (text) => {
        if (this.shell.push(text).some((e) => e.kind === 'prompt')) resolve();
        for (const l of this.listeners) l(text);
      };
      this.send = cx.setCustomConsole(
        (buf) => {
          const text = this.decoder.decode(buf, { stream: true });
          // The wrappers' frames are removed here, before the terminal, the relay or the shell integration see them.
          if (this.gateway) this.gateway.push(text);
          else show(text);
        },
        this.opts.cols,
        this.opts.rows,
      );
    });
    const env = ['HOME=/home/user', 'USER=user', 'LOGNAME=user', 'TERM=xterm-256color', 'LANG=C.UTF-8', 'PATH=/usr/local/bin:/usr/bin:/bin'];
    // --rcfile makes bash read our integration after the image's own profile (sourced from it).
    void cx.run('/bin/bash', ['--rcfile', '/data/tandem.bashrc', '-i'], { env, cwd: '/home/user', uid: 1000, gid: 1000 });
    await prompt;
    const ms = Math.round(performance.now() - t0);
    onProgress({ phase: 'ready', progress: 1, message: `CheerpX ready in ${(ms / 1000).toFixed(1)} s` });
    return { restored: false, ms };
  }

  async destroy(): Promise<void> {
    this.listeners = [];
    this.gateway?.close();
    this.gateway = null;
    this.link.close();
    this.send = null;
    this.cx?.delete();
    this.cx = null;
  }
}
