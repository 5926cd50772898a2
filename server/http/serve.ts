import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { TandemError } from '../../lib/shared/errors';
import { HttpError } from './errors';
import { refuseUpgrade } from './refuseUpgrade';
import { sendHttpError } from './json';
import { pathSegments, type Router } from './router';
import { SECURITY_HEADERS, originAllowed } from './security';

/**
 * The largest body handed to Next (sign-in forms, next-auth's callbacks). Next would read a body
 * whole into memory; we refuse more than this from its Content-Length before a byte is read.
 */
export const MAX_NEXT_BODY_BYTES = 64 * 1024;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

type NextHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

export interface ServeOptions {
  router: Router;
  /** Pages and next-auth; without it (integration tests) unknown paths are a JSON 404. */
  next?: NextHandler;
  /** Called for each request handed to Next, before it (e.g. to stamp the client's address). */
  beforeNext?(req: http.IncomingMessage): void;
  isAllowedOrigin(origin: string): boolean;
  log: Logger;
}

/**
 * The one 'request' listener: security headers, the path parsed once (a malformed one is a 400),
 * cross-site writes refused, then the route table, else Next with its body capped. Nothing thrown
 * below escapes: a handler's HttpError is its answer, anything else a logged 500.
 */
export function createRequestListener(o: ServeOptions): http.RequestListener {
  return (req, res) => {
    try {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      const url = requestUrl(req.url);
      if (url.pathname.startsWith('/socket.io/')) return; // engine.io answers these itself
      const segments = pathSegments(url.pathname);
      const method = req.method ?? 'GET';
      if (!SAFE_METHODS.has(method) && !originAllowed(req, o.isAllowedOrigin))
        throw new HttpError('FORBIDDEN', `requests from ${req.headers.origin} are not allowed`);
      const m = o.router.match(method, segments);
      if (m && 'route' in m) {
        const ctx = { req, res, url, params: m.params };
        return void Promise.resolve()
          .then(() => m.route.handler(ctx))
          .catch((e) => fail(res, e, url.pathname));
      }
      if (m) throw new HttpError('METHOD_NOT_ALLOWED', `use ${m.allow.join(' or ')}`, { allow: m.allow.join(', ') });
      // Our JSON namespace answers JSON even for unknown paths; next-auth owns /api/auth.
      if (!o.next || (segments[0] === 'api' && segments[1] !== 'auth')) throw new HttpError('NOT_FOUND', `no route ${url.pathname}`);
      checkNextBody(req);
      o.beforeNext?.(req);
      void Promise.resolve()
        .then(() => o.next!(req, res))
        .catch((e) => fail(res, e, url.pathname));
    } catch (e) {
      fail(res, e, req.url ?? '');
    }
  };

  function fail(res: http.ServerResponse, e: unknown, path: string): void {
    if (!(e instanceof TandemError)) o.log.error({ err: e, path }, 'request failed');
    try {
      sendHttpError(res, e);
    } catch (err) {
      o.log.error({ err, path }, 'could not answer a failed request');
      res.destroy();
    }
  }
}

export interface UpgradeOptions {
  /** Takes the upgrades it owns (/yjs/*); returns false for any other path. */
  handlers: ((req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean)[];
  /** Paths another listener answers (engine.io's /socket.io/, Next's dev HMR under /_next/). */
  passThrough: string[];
  /** Browsers' WebSocket handshakes carry Origin; one from elsewhere is refused before any handler. */
  isAllowedOrigin(origin: string): boolean;
  log: Logger;
}

/** The one 'upgrade' listener: a malformed path is a 400, an unknown path a 404; the socket is closed either way. */
export function createUpgradeListener(o: UpgradeOptions): (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    // A reset mid-handshake must not become a process-level 'error'.
    socket.on('error', (err) => o.log.debug({ err }, 'upgrade socket error'));
    try {
      const url = requestUrl(req.url);
      if (o.passThrough.some((p) => url.pathname.startsWith(p))) return;
      pathSegments(url.pathname);
      if (!originAllowed(req, o.isAllowedOrigin)) throw new HttpError('FORBIDDEN', `websockets from ${req.headers.origin} are not allowed`);
      for (const h of o.handlers) if (h(req, socket, head, url)) return;
      refuseUpgrade(socket, 'NOT_FOUND', `no websocket at ${url.pathname}`);
    } catch (e) {
      if (!(e instanceof TandemError)) o.log.error({ err: e }, 'upgrade failed');
      refuseWith(socket, e);
    }
  };
}

/** Refuses an upgrade with the error's code (a 500 that says nothing more for anything unexpected). */
function refuseWith(socket: Duplex, e: unknown): void {
  if (e instanceof TandemError) refuseUpgrade(socket, e.code, e.message);
  else refuseUpgrade(socket, 'INTERNAL', 'internal error');
}

/**
 * The request target as a URL. Only origin-form (`/path?query`) is served; `//host/x` stays a path
 * (never read as another host), and anything else is a 400.
 */
export function requestUrl(target: string | undefined): URL {
  if (!target?.startsWith('/')) throw new HttpError('BAD_MESSAGE', 'malformed request target');
  try {
    return new URL(`http://x${target}`);
  } catch {
    throw new HttpError('BAD_MESSAGE', 'malformed request target');
  }
}

/** A body Next would read whole: its length must be declared and under the cap. */
function checkNextBody(req: http.IncomingMessage): void {
  const length = req.headers['content-length'];
  if (length !== undefined) {
    if (Number(length) > MAX_NEXT_BODY_BYTES) throw new HttpError('TOO_LARGE', `request body is over ${MAX_NEXT_BODY_BYTES} bytes`, { connection: 'close' });
    return;
  }
  if (req.headers['transfer-encoding'] !== undefined) throw new HttpError('LENGTH_REQUIRED', 'send a Content-Length with the body', { connection: 'close' });
}

/**
 * The HTTP server, which answers a malformed request line or header with a 400 at once (Node's
 * default answer), logged at debug only.
 */
export function createHttpServer(log: Logger): http.Server {
  // An idle keep-alive connection is kept longer than a client's or a reverse proxy's (undici 4 s,
  // common load balancers 60 s), so it is always the client that closes it: a server closing first
  // races the client's next request on that socket, which then fails with ECONNRESET.
  const server = http.createServer({ keepAliveTimeout: 65_000 });
  server.on('clientError', (err, socket) => {
    log.debug({ err: String(err) }, 'bad request');
    // Junk after a request that was already answered must not get a second response on the same
    // socket (a client reads that as a broken answer): only a socket with no answer under way gets the 400.
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !answering?.headersSent) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
