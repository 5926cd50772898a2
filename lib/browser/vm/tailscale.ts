/** Where a CheerpX VM's Tailscale connection stands, as the control shows it. */
export interface TailscaleStatus {
  state: TailscaleStateName;
  /** The URL to open to authorise this VM (Tailscale's login page, or the control server's). */
  loginUrl: string | null;
  /** The VM's tailnet address once connected. */
  ip: string | null;
}

// Tailscale's ipn.State numbers, which CheerpX's stateUpdateCb reports.
const STATES = ['NoState', 'InUseOtherUser', 'NeedsLogin', 'NeedsMachineAuth', 'Stopped', 'Starting', 'Running'] as const;
export type TailscaleStateName = (typeof STATES)[number] | 'Disconnected' | 'LoggingIn' | 'Unknown';

export function tailscaleStateName(n: number): TailscaleStateName {
  return Number.isInteger(n) && n >= 0 && n < STATES.length ? STATES[n] : 'Unknown';
}

/** The first address of CheerpX's netmap for this node (`map.self.addresses[0]`), if any. */
export function tailscaleIp(map: unknown): string | null {
  const addrs = (map as { self?: { addresses?: unknown } } | null)?.self?.addresses;
  const first = Array.isArray(addrs) ? addrs[0] : undefined;
  // Addresses come as CIDR prefixes (100.x.y.z/32): show the address.
  return typeof first === 'string' && first.length <= 64 ? first.replace(/\/\d+$/, '') : null;
}

export const INITIAL_TAILSCALE: TailscaleStatus = { state: 'Disconnected', loginUrl: null, ip: null };

/** Login URLs are shown as links: only http(s) ones, so a hostile value cannot be a javascript: link. */
export function safeLoginUrl(url: unknown): string | null {
  if (typeof url !== 'string' || url.length > 2048) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** What CheerpX's Linux.create takes as `networkInterface` (its callbacks feed TailscaleLink). */
export interface CheerpXNetworkInterface {
  loginUrlCb: (url: string) => void;
  stateUpdateCb: (state: number) => void;
  netmapUpdateCb: (map: unknown) => void;
}

/**
 * A CheerpX VM's Tailscale connection: hand `networkInterface` to Linux.create, `attach` the
 * created VM, then `connect()` starts the login (CheerpX's networkLogin, newer than its .d.ts).
 */
export class TailscaleLink {
  private status: TailscaleStatus = INITIAL_TAILSCALE;
  private listeners: ((s: TailscaleStatus) => void)[] = [];
  private vm: { networkLogin?: () => Promise<void> } | null = null;

  readonly networkInterface: CheerpXNetworkInterface = {
    loginUrlCb: (url) => this.set({ loginUrl: safeLoginUrl(url), state: 'NeedsLogin' }),
    stateUpdateCb: (s) => this.set({ state: tailscaleStateName(s) }),
    netmapUpdateCb: (map) => this.set({ ip: tailscaleIp(map) }),
  };

  attach(vm: object | null): void {
    this.vm = vm as { networkLogin?: () => Promise<void> } | null;
  }

  async connect(): Promise<void> {
    const vm = this.vm;
    if (!vm?.networkLogin) throw new Error('Tailscale is not available: the CheerpX VM is not running or its build has no networkLogin');
    this.set({ state: 'LoggingIn' });
    await vm.networkLogin();
  }

  onChange(cb: (s: TailscaleStatus) => void): void {
    this.listeners.push(cb);
    cb(this.status);
  }

  private set(patch: Partial<TailscaleStatus>): void {
    this.status = { ...this.status, ...patch };
    for (const l of this.listeners) l(this.status);
  }

  close(): void {
    this.listeners = [];
    this.vm = null;
  }
}
