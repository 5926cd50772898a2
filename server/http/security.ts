import type { IncomingMessage } from 'node:http';
import { CHEERPX_URL } from '../../lib/shared/engines';

const CHEERPX_ORIGIN = new URL(CHEERPX_URL).origin;

/**
 * Headers on every response, pages and our own routes alike. The CSP is as tight as the page's
 * engines allow: v86 compiles WebAssembly ('wasm-unsafe-eval'); CheerpX is imported from its CDN
 * through `new Function` ('unsafe-eval') and runs workers from there; Next's pages carry inline
 * bootstrap scripts ('unsafe-inline', no nonces). CheerpX's disks and networking use wss: and
 * https: connections. No one may frame a room (frame-ancestors): a framed terminal is a
 * clickjacking target. COOP/COEP make the page cross-origin isolated (CheerpX needs
 * SharedArrayBuffer).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval' ${CHEERPX_ORIGIN}`,
    `worker-src 'self' blob: ${CHEERPX_ORIGIN}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self' ws: wss: https:",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Which browser origins may send us cookie-carrying writes and open sockets: PUBLIC_URL's, and the
 * address the server's own headless browser uses (`internalBase`, known once listening). A
 * loopback origin stands for all three loopback names on its port (localhost and 127.0.0.1 are
 * the same server to a person on this machine). The request's Host header is not trusted: a
 * DNS-rebinding page has a matching Host.
 */
export function originChecker(publicUrl: string, internalBase: () => string | null): (origin: string) => boolean {
  const allowed = (): Set<string> => {
    const out = new Set<string>();
    for (const base of [publicUrl, internalBase()]) {
      if (!base) continue;
      const u = new URL(base);
      out.add(u.origin);
      if (LOOPBACK_HOSTS.includes(u.hostname)) for (const h of LOOPBACK_HOSTS) out.add(`${u.protocol}//${h}${u.port ? `:${u.port}` : ''}`);
    }
    return out;
  };
  return (origin) => allowed().has(origin);
}

/**
 * Whether a request's Origin lets it act with the user's cookies. A browser always sends Origin on
 * cross-site writes and WebSocket handshakes, and a page cannot remove or forge it; so a missing
 * Origin is a same-origin GET or a non-browser client (curl, an SDK, our tests), which holds its
 * own credentials and is no forgery. `null` (sandboxed frames, some redirects) is refused.
 */
export function originAllowed(req: IncomingMessage, isAllowed: (origin: string) => boolean): boolean {
  const origin = req.headers.origin;
  return origin === undefined || isAllowed(origin);
}
