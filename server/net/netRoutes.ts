import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { TandemError } from '../../lib/shared/errors';
import { HttpError, sendHttpError } from '../commands/HttpError';
import { readJsonObject, sendJson } from '../http/json';
import { RateLimiter } from '../accounts/RateLimiter';
import { clientIp } from '../accounts/accountRoutes';
import { MAX_DOH_QUERY_BYTES, type DohResolver } from './DohResolver';
import type { NetHub } from './NetHub';
import type { NetAudit } from './NetAudit';

/** The MTU v86's virtual NIC and the guest use: twice the throughput of 1500 through Wisp. */
export const NET_MTU = 9000;
/** DNS queries per client address per minute (a page load is a handful; a loop is thousands). */
export const DOH_QUERIES_PER_MINUTE = 600;
const MAX_NET_BODY_BYTES = 1024;

export const netTokenRequestSchema = z.object({ sid: z.string().min(1).max(64) }).strict();
export const netListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().min(1).optional(),
});

export interface InternetState {
  /** The room's VM may connect now. */
  on: boolean;
  /** The room's own switch; null follows the server's default. */
  switch: boolean | null;
  /** The server's NET mode in effect (auto resolved). */
  mode: 'members' | 'on' | 'off';
  /** Why it is off: the server (NET=off), the room's switch, or NET=members and the host is not signed in. */
  reason: 'server_off' | 'switch_off' | 'members_only' | null;
}

export interface NetRouteDeps {
  hub: NetHub;
  doh: DohResolver;
  audit: NetAudit;
  state(room: string): InternetState;
  /** The socket id of the room's host connection now (the token goes to it alone). */
  hostSocket(room: string): { sid: string; clientId: string } | null;
  /** Throws 401/403/404 unless the caller may read the room's network audit (owner, or the API key). */
  requireAuditReader(req: IncomingMessage, url: URL, room: string): Promise<void>;
  log: Logger;
}

/**
 * HTTP side of the VM network: DNS over HTTPS (`/dns-query`, RFC 8484 GET and POST), the host's
 * network token, and the room's audit (`GET /api/rooms/:id/net`).
 */
export function createNetHandler(d: NetRouteDeps) {
  const dohLimiter = new RateLimiter({ points: DOH_QUERIES_PER_MINUTE, windowMs: 60_000 });
  const counters = { dohOversize: 0, dohRateLimited: 0, dohMalformed: 0 };

  const handle = (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    const p = url.pathname.replace(/\/$/, '');
    let m: RegExpExecArray | null;
    let run: (() => Promise<void>) | null = null;
    if (p === '/dns-query') run = () => dnsQuery(req, res, url);
    else if ((m = /^\/api\/rooms\/([^/]+)\/net-token$/.exec(p))) {
      const room = decodeURIComponent(m[1]);
      run = () => netToken(req, res, room);
    } else if ((m = /^\/api\/rooms\/([^/]+)\/net$/.exec(p))) {
      const room = decodeURIComponent(m[1]);
      run = () => netAudit(req, res, url, room);
    }
    if (!run) return false;
    run().catch((e) => {
      if (!(e instanceof TandemError)) d.log.error({ err: e, path: p }, 'net route failed');
      sendHttpError(res, e);
    });
    return true;
  };

  async function dnsQuery(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!dohLimiter.consume(clientIp(req)).ok) {
      counters.dohRateLimited++;
      throw new HttpError('RATE_LIMITED', 'too many DNS queries; slow down', { 'retry-after': '10' });
    }
    let message: Buffer;
    if (req.method === 'GET') {
      const param = url.searchParams.get('dns') ?? '';
      // base64url grows 4/3: refuse before decoding anything big.
      if (param.length > Math.ceil((MAX_DOH_QUERY_BYTES * 4) / 3)) {
        counters.dohOversize++;
        throw new HttpError('TOO_LARGE', `DNS queries are at most ${MAX_DOH_QUERY_BYTES} bytes`);
      }
      if (!/^[A-Za-z0-9_-]+$/.test(param)) throw new HttpError('BAD_MESSAGE', 'GET /dns-query needs ?dns=<base64url DNS message>');
      message = Buffer.from(param, 'base64url');
    } else if (req.method === 'POST') {
      if ((req.headers['content-type'] ?? '').split(';')[0].trim() !== 'application/dns-message')
        throw new HttpError('UNSUPPORTED_MEDIA', 'POST /dns-query needs Content-Type: application/dns-message');
      message = await readCapped(req);
    } else throw new HttpError('METHOD_NOT_ALLOWED', 'GET or POST', { allow: 'GET, POST' });
    let answer: { body: Buffer; ttl: number };
    try {
      answer = await d.doh.answer(message);
    } catch (e) {
      counters.dohMalformed++;
      throw new HttpError('BAD_MESSAGE', `not a DNS query: ${(e as Error).message}`);
    }
    res.writeHead(200, { 'content-type': 'application/dns-message', 'content-length': answer.body.length, 'cache-control': `max-age=${answer.ttl}` });
    res.end(answer.body);
  }

  async function readCapped(req: IncomingMessage): Promise<Buffer> {
    const tooLarge = () => {
      counters.dohOversize++;
      return new HttpError('TOO_LARGE', `DNS queries are at most ${MAX_DOH_QUERY_BYTES} bytes`, { connection: 'close' });
    };
    if (Number(req.headers['content-length'] ?? 0) > MAX_DOH_QUERY_BYTES) throw tooLarge();
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of req) {
      total += (chunk as Buffer).length;
      if (total > MAX_DOH_QUERY_BYTES) throw tooLarge();
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async function netToken(req: IncomingMessage, res: ServerResponse, room: string): Promise<void> {
    if (req.method !== 'POST') throw new HttpError('METHOD_NOT_ALLOWED', 'POST', { allow: 'POST' });
    const parsed = netTokenRequestSchema.safeParse(await readJsonObject(req, MAX_NET_BODY_BYTES));
    if (!parsed.success) throw new HttpError('BAD_MESSAGE', 'want {"sid": "<your Socket.IO connection id>"}');
    const host = d.hostSocket(room);
    // The connection id is known only to its browser tab and us: holding it proves the seat.
    if (!host || host.sid !== parsed.data.sid) throw new HttpError('FORBIDDEN', "only the room's current host gets its VM's network");
    sendJson(res, 200, { path: `/net/${d.hub.issueToken(room, host.clientId)}/`, mtu: NET_MTU, internet: d.state(room) });
  }

  async function netAudit(req: IncomingMessage, res: ServerResponse, url: URL, room: string): Promise<void> {
    if (req.method !== 'GET') throw new HttpError('METHOD_NOT_ALLOWED', 'GET', { allow: 'GET' });
    await d.requireAuditReader(req, url, room);
    const q = netListQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!q.success) throw new HttpError('BAD_MESSAGE', 'limit is 1–500, before a row id');
    const rows = d.audit.list(room, q.data.limit, q.data.before);
    sendJson(res, 200, {
      room,
      internet: d.state(room),
      live: d.hub.roomStats(room),
      last24h: d.audit.summary(room, Date.now() - 86_400_000),
      connections: rows.map((r) => ({ ...r, startedAt: r.startedAt.toISOString() })),
    });
  }

  return { handle, counters };
}
