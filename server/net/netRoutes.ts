import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { HttpError } from '../http/errors';
import type { RequestContext } from '../http/router';
import { readBuffer, readJsonObject, sendJson } from '../http/json';
import { RateLimiter } from '../accounts/RateLimiter';
import type { ClientAddressOf } from '../http/clientAddress';
import { MAX_DOH_QUERY_BYTES, type DohResolver } from './DohResolver';
import type { NetHub } from './NetHub';
import type { NetAudit } from './NetAudit';
import { VM_NET_MTU } from '../assets/guestManifest';
import { Gateway, GatewayError, MAX_GATEWAY_REQUEST_BYTES, gatewayRequestSchema } from './Gateway';

/** DNS queries per client address per minute (a page load is a handful; a loop is thousands). */
export const DOH_QUERIES_PER_MINUTE = 600;
const MAX_NET_BODY_BYTES = 1024;
/** A gateway request's JSON: a request body of MAX_GATEWAY_REQUEST_BYTES in base64, plus headers. */
const MAX_GATEWAY_JSON_BYTES = Math.ceil((MAX_GATEWAY_REQUEST_BYTES * 4) / 3) + 64 * 1024;
/** Gateway requests per caller per minute. */
export const GATEWAY_REQUESTS_PER_MINUTE = 120;
const GATEWAY_ERRORS = {
  refused: 'FORBIDDEN',
  bad_request: 'BAD_MESSAGE',
  too_large: 'TOO_LARGE',
  timeout: 'UPSTREAM_TIMEOUT',
  upstream: 'UPSTREAM_FAILED',
} as const;

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
  clientAddress: ClientAddressOf;
  hub: NetHub;
  doh: DohResolver;
  audit: NetAudit;
  state(room: string): InternetState;
  roomExists(room: string): boolean;
  /** The socket id of the room's host connection now (the token goes to it alone). */
  hostSocket(room: string): { sid: string; clientId: string } | null;
  /** Throws 401/403/404 unless the caller may read the room's network audit (owner, or the API key). */
  requireAuditReader(req: IncomingMessage, url: URL, room: string): Promise<void>;
  /** Who calls the gateway for `room` (API key or token, the room's host token, a member's session), for the audit; throws 401/403. */
  authorizeGateway(req: IncomingMessage, url: URL, room: string): Promise<string>;
  gateway: Gateway;
  log: Logger;
}

/**
 * HTTP side of the VM network: DNS over HTTPS (`/dns-query`, RFC 8484 GET and POST), the host's
 * network token, and the room's audit (`GET /api/rooms/:id/net`). One handler per route; the route
 * table (server/http/routes.ts) says which path and method each answers.
 */
export function createNetHandler(d: NetRouteDeps) {
  const dohLimiter = new RateLimiter({ points: DOH_QUERIES_PER_MINUTE, windowMs: 60_000 });
  const counters = { dohOversize: 0, dohRateLimited: 0, dohMalformed: 0 };

  async function dnsQuery(req: IncomingMessage, res: ServerResponse, url: URL, room: string | null): Promise<void> {
    if (!dohLimiter.consume(d.clientAddress(req)).ok) {
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
      message = await readBuffer(req, MAX_DOH_QUERY_BYTES, {
        message: `DNS queries are at most ${MAX_DOH_QUERY_BYTES} bytes`,
        refused: () => counters.dohOversize++,
      });
    } else throw new HttpError('METHOD_NOT_ALLOWED', 'GET or POST', { allow: 'GET, POST' });
    let answer: { body: Buffer; ttl: number };
    const off = room !== null ? d.state(room) : null;
    const refuse = !!off && !off.on;
    try {
      answer = await d.doh.answer(message, { refuse });
    } catch (e) {
      counters.dohMalformed++;
      throw new HttpError('BAD_MESSAGE', `not a DNS query: ${(e as Error).message}`);
    }
    // A refusal because the room's Internet is off says so beside the DNS answer (which cannot):
    // the host page shows it, since the guest's command only sees "could not resolve".
    const why = refuse ? { 'x-tandem-refused': encodeURIComponent(internetOffMessage(off!.reason)) } : {};
    res.writeHead(200, { 'content-type': 'application/dns-message', 'content-length': answer.body.length, 'cache-control': `max-age=${answer.ttl}`, ...why });
    res.end(answer.body);
  }

  async function netToken(req: IncomingMessage, res: ServerResponse, room: string): Promise<void> {
    if (req.method !== 'POST') throw new HttpError('METHOD_NOT_ALLOWED', 'POST', { allow: 'POST' });
    const parsed = netTokenRequestSchema.safeParse(await readJsonObject(req, MAX_NET_BODY_BYTES));
    if (!parsed.success) throw new HttpError('BAD_MESSAGE', 'want {"sid": "<your Socket.IO connection id>"}');
    const host = d.hostSocket(room);
    // The connection id is known only to its browser tab and us: holding it proves the seat.
    if (!host || host.sid !== parsed.data.sid) throw new HttpError('FORBIDDEN', "only the room's current host gets its VM's network");
    sendJson(res, 200, { path: `/net/${d.hub.issueToken(room, host.clientId)}/`, mtu: VM_NET_MTU, internet: d.state(room) });
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

  const gatewayLimiter = new RateLimiter({ points: GATEWAY_REQUESTS_PER_MINUTE, windowMs: 60_000 });
  async function gateway(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') throw new HttpError('METHOD_NOT_ALLOWED', 'POST', { allow: 'POST' });
    const parsed = gatewayRequestSchema.safeParse(await readJsonObject(req, MAX_GATEWAY_JSON_BYTES));
    if (!parsed.success) throw new HttpError('BAD_MESSAGE', `gateway request: ${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const body = parsed.data;
    const netToken = req.headers['x-net-token'];
    // A CheerpX host's page (its guests' curl/wget wrappers) presents its seat's network token: the
    // VM's own network, so the room's full Internet state applies, NET=members included.
    const seat = typeof netToken === 'string' ? d.hub.seatOfToken(netToken) : null;
    if (typeof netToken === 'string' && (!seat || (body.room !== undefined && body.room !== seat.room)))
      throw new HttpError('UNAUTHORIZED', "the network token is invalid, expired, or no longer the room's host seat; reload the page");
    const room = seat?.room ?? body.room ?? url.searchParams.get('room') ?? 'default';
    const who = seat ? seat.memberId : await d.authorizeGateway(req, url, room);
    if (!gatewayLimiter.consume(who).ok) throw new HttpError('RATE_LIMITED', `at most ${GATEWAY_REQUESTS_PER_MINUTE} gateway requests a minute`, { 'retry-after': '30' });
    const st = d.state(room);
    if (st.reason === 'server_off' || st.reason === 'switch_off' || (seat && !st.on))
      throw new HttpError('FORBIDDEN', internetOffMessage(st.reason));
    const started = Date.now();
    const audit = (row: { ip: string | null; port: number; name: string | null; bytesUp: number; bytesDown: number; refused: string | null; status: number }) =>
      d.audit.record({ room, host: who, kind: 'gateway', ...row, closeReason: row.status, startedAt: new Date(started), durationMs: Date.now() - started });
    let port = 0;
    try {
      port = Number(new URL(body.url).port) || 0;
    } catch {
      /* the gateway names the bad URL */
    }
    try {
      const r = await d.gateway.fetch(body);
      audit({ ip: r.ip, port: r.port, name: r.name, bytesUp: r.bytesUp, bytesDown: r.bytesDown, refused: null, status: r.status });
      const { ip: _ip, port: _port, name: _name, bytesUp: _up, bytesDown: _down, ...answer } = r;
      sendJson(res, 200, answer);
    } catch (e) {
      if (!(e instanceof GatewayError)) throw e;
      const code = GATEWAY_ERRORS[e.kind];
      if (e.reason) audit({ ip: null, port, name: safeHost(body.url), bytesUp: 0, bytesDown: 0, refused: e.reason, status: 403 });
      throw new HttpError(code, e.message);
    }
  }

  return {
    /** GET and POST /dns-query */
    dnsQuery: ({ req, res, url }: RequestContext) => dnsQuery(req, res, url, null),
    /** GET and POST /net/:token/dns-query: the room's own DNS (the page routes v86's queries here), REFUSED while its Internet is off. */
    roomDnsQuery: ({ req, res, url, params }: RequestContext) => {
      const room = d.hub.roomOfToken(params.token);
      if (!room) throw new HttpError('UNAUTHORIZED', 'network token is invalid or expired; reload the page');
      return dnsQuery(req, res, url, room);
    },
    /** POST /api/gateway */
    gateway: ({ req, res, url }: RequestContext) => gateway(req, res, url),
    /** POST /api/rooms/:id/net-token */
    netToken: ({ req, res, params }: RequestContext) => netToken(req, res, params.id),
    /** GET /api/rooms/:id/internet: on or off and why, for the room's badge; as public as the room's link. */
    internet: ({ res, params }: RequestContext) => {
      if (!d.roomExists(params.id)) throw new HttpError('ROOM_NOT_FOUND', `no room ${params.id}`);
      sendJson(res, 200, d.state(params.id));
    },
    /** GET /api/rooms/:id/net */
    netAudit: ({ req, res, url, params }: RequestContext) => netAudit(req, res, url, params.id),
    counters,
  };
}

/** Why the room's VM has no Internet, in words a guest's terminal can show. */
export function internetOffMessage(reason: InternetState['reason']): string {
  if (reason === 'server_off') return 'this server has no VM network (NET=off)';
  if (reason === 'switch_off') return "the room's Internet is turned off (the owner's switch)";
  return 'this server gives the VM network only to rooms hosted by a signed-in member (NET=members)';
}

function safeHost(raw: string): string | null {
  try {
    return new URL(raw).hostname;
  } catch {
    return null;
  }
}
