import { clientPrefix } from './clientPrefix';

/** Live sockets (Socket.IO and Yjs together) one address may hold; a classroom behind one NAT address stays far below. */
export const DEFAULT_MAX_SOCKETS_PER_IP = 2000;

/**
 * Counts live sockets per client address (IPv6 per /64) and refuses past the cap, so one client
 * cannot hold the server's memory and file descriptors with idle connections. Entries go when
 * their count returns to zero: the map holds only addresses with a live socket.
 */
export class SocketQuota {
  private live = new Map<string, number>();

  constructor(readonly maxPerIp = DEFAULT_MAX_SOCKETS_PER_IP) {}

  /** A release function (call it once, when the socket closes), or null: the address is at its cap. */
  acquire(ip: string | undefined): (() => void) | null {
    const key = clientPrefix(ip ?? 'unknown');
    const n = this.live.get(key) ?? 0;
    if (n >= this.maxPerIp) return null;
    this.live.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.live.get(key) ?? 1) - 1;
      if (left <= 0) this.live.delete(key);
      else this.live.set(key, left);
    };
  }

  /** Addresses with at least one live socket (tests, diagnostics). */
  get addresses(): number {
    return this.live.size;
  }
}
