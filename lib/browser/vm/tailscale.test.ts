import { describe, expect, it } from 'vitest';
import { safeLoginUrl, tailscaleIp, tailscaleStateName } from './tailscale';

describe('tailscale status helpers', () => {
  it('names ipn states and the netmap address', () => {
    expect(tailscaleStateName(2)).toBe('NeedsLogin');
    expect(tailscaleStateName(6)).toBe('Running');
    expect(tailscaleStateName(42)).toBe('Unknown');
    expect(tailscaleIp({ self: { addresses: ['100.101.102.103/32', 'fd7a::1/128'] } })).toBe('100.101.102.103');
    expect(tailscaleIp({})).toBeNull();
    expect(tailscaleIp(null)).toBeNull();
  });

  it('only lets http(s) login URLs become links', () => {
    expect(safeLoginUrl('https://login.tailscale.com/a/abc123')).toBe('https://login.tailscale.com/a/abc123');
    expect(safeLoginUrl('javascript:alert(1)')).toBeNull();
    expect(safeLoginUrl('not a url')).toBeNull();
    expect(safeLoginUrl(7)).toBeNull();
  });
});

describe('TailscaleLink', () => {
  it('follows CheerpX’s callbacks: login URL, then state and IP', async () => {
    const { TailscaleLink } = await import('./tailscale');
    const link = new TailscaleLink();
    const seen: string[] = [];
    link.onChange((s) => seen.push(`${s.state}|${s.loginUrl ?? ''}|${s.ip ?? ''}`));
    await expect(link.connect()).rejects.toThrow(/not available/);
    let logins = 0;
    link.attach({ networkLogin: async () => void logins++ });
    await link.connect();
    link.networkInterface.loginUrlCb('https://login.tailscale.com/a/xyz');
    link.networkInterface.stateUpdateCb(6);
    link.networkInterface.netmapUpdateCb({ self: { addresses: ['100.64.0.7/32'] } });
    expect(logins).toBe(1);
    expect(seen).toEqual([
      'Disconnected||',
      'LoggingIn||',
      'NeedsLogin|https://login.tailscale.com/a/xyz|',
      'Running|https://login.tailscale.com/a/xyz|',
      'Running|https://login.tailscale.com/a/xyz|100.64.0.7',
    ]);
  });
});
