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
