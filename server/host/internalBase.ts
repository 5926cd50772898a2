/**
 * Where the server's own headless browser reaches it. The headless page saves and restores room
 * states with Web Crypto, which a browser gives only to secure contexts: https, or a loopback
 * origin (localhost, 127.0.0.0/8, [::1]). A server bound to every interface is reached on loopback;
 * one bound to a single other address is reached there, and its origin is declared secure to our
 * own Chromium (it is the server's own page, served to nobody else through that flag).
 */

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** The base URL of the server bound at `host` (HOST) and `port`, as this machine reaches it. */
export function internalBaseUrl(host: string, port: number): string {
  if (WILDCARDS.has(host)) return `http://127.0.0.1:${port}`;
  const name = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

/** True for origins a browser treats as secure without https. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(hostname) || hostname === '[::1]';
}

/** Chromium arguments that make the page at `baseUrl` a secure context; none for loopback. */
export function secureContextArgs(baseUrl: string): string[] {
  const u = new URL(baseUrl);
  return u.protocol === 'https:' || isLoopbackHost(u.hostname) ? [] : [`--unsafely-treat-insecure-origin-as-secure=${u.origin}`];
}
