import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { z } from 'zod';
import { parseAddress, type NetPolicy } from './NetPolicy';
import type { AddressLookup } from './DohResolver';
import type { NetRefusal } from './NetAudit';

/** The seed's gateway request (design.md, contract), plus `body_b64` for binary bodies. */
export const gatewayRequestSchema = z
  .object({
    url: z.string().min(1).max(8192),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
    headers: z.record(z.string(), z.string().max(8192)).optional(),
    body: z.string().optional(),
    body_b64: z.string().optional(),
    responseType: z.enum(['text', 'arrayBuffer']).default('text'),
    truncate: z.boolean().default(false),
    maxLength: z.number().int().min(1).optional(),
    /** false: a 3xx comes back as it is (curl without -L); true (default): followed by hand, at most 5. */
    followRedirects: z.boolean().default(true),
    room: z.string().optional(),
  })
  .strict();
export type GatewayRequest = z.infer<typeof gatewayRequestSchema>;

export const MAX_GATEWAY_REQUEST_BYTES = 1024 * 1024;
export const MAX_GATEWAY_RESPONSE_BYTES = 10 * 1024 * 1024;
export const GATEWAY_TIMEOUT_MS = 30_000;
export const MAX_GATEWAY_REDIRECTS = 5;

/** Never forwarded either way: connection-level headers, and cookies (the gateway is shared). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'cookie', 'set-cookie', 'content-length']);

export class GatewayError extends Error {
  constructor(
    readonly kind: 'refused' | 'bad_request' | 'too_large' | 'timeout' | 'upstream',
    message: string,
    readonly reason: NetRefusal | null = null,
  ) {
    super(message);
  }
}

export interface GatewayResult {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  data?: string;
  data_b64?: string;
  /** For the audit: where the last hop went and how many bytes moved. */
  ip: string;
  port: number;
  name: string;
  bytesUp: number;
  bytesDown: number;
}

function cleanHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k.toLowerCase())) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * The seed's HTTP gateway: fetches one URL for an API client (or a CheerpX guest's curl wrapper)
 * with the VM network's policy on every resolved address of every hop; redirects are followed by
 * hand (at most 5), each hop dialled at the address that was checked.
 */
export class Gateway {
  constructor(private opts: { policy: NetPolicy; lookup: AddressLookup; timeoutMs?: number }) {}

  async fetch(req: GatewayRequest): Promise<GatewayResult> {
    const body = req.body_b64 !== undefined ? Buffer.from(req.body_b64, 'base64') : req.body !== undefined ? Buffer.from(req.body, 'utf8') : null;
    if (body && body.length > MAX_GATEWAY_REQUEST_BYTES) throw new GatewayError('too_large', `request bodies are at most ${MAX_GATEWAY_REQUEST_BYTES} bytes`);
    const deadline = Date.now() + (this.opts.timeoutMs ?? GATEWAY_TIMEOUT_MS);
    let url = this.parseUrl(req.url);
    let method = req.method;
    let sendBody = body;
    for (let hop = 0; ; hop++) {
      const target = await this.check(url);
      const res = await this.request(url, target, method, cleanHeaders(req.headers ?? {}), sendBody, deadline, req);
      const location = res.location;
      if (location && req.followRedirects && [301, 302, 303, 307, 308].includes(res.status)) {
        if (hop >= MAX_GATEWAY_REDIRECTS) throw new GatewayError('upstream', `more than ${MAX_GATEWAY_REDIRECTS} redirects`);
        url = this.parseUrl(new URL(location, url).href);
        // 303 (and 301/302 after a POST, as browsers do) become a GET without a body.
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          sendBody = null;
        }
        continue;
      }
      return res.result;
    }
  }

  private parseUrl(raw: string): URL {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new GatewayError('bad_request', 'url is not an absolute URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new GatewayError('bad_request', 'only http and https URLs');
    if (u.username || u.password) throw new GatewayError('bad_request', 'credentials in the URL are not forwarded');
    return u;
  }

  /** Resolves the URL's host and checks every address; returns the one to dial. */
  private async check(u: URL): Promise<{ ip: string; family: 4 | 6; port: number }> {
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const addrs = parseAddress(host) ? [host] : [...(await this.opts.lookup(host, 4)), ...(await this.opts.lookup(host, 6))].map((a) => a.address);
    if (!addrs.length) throw new GatewayError('upstream', `${host} does not resolve`, 'unresolved');
    let allowed: { ip: string; family: 4 | 6 } | null = null;
    for (const a of addrs) {
      const v = this.opts.policy.check(a, port);
      // Any refused address refuses the name: a name that also points inside is not followed.
      if (!v.ok) throw new GatewayError('refused', `destination refused: ${v.reason} (${v.ip ?? a}:${port})`, v.reason);
      allowed ??= { ip: v.ip, family: v.family };
    }
    return { ...allowed!, port };
  }

  private request(
    u: URL,
    target: { ip: string; family: 4 | 6; port: number },
    method: string,
    headers: Record<string, string>,
    body: Buffer | null,
    deadline: number,
    req: GatewayRequest,
  ): Promise<{ status: number; location: string | null; result: GatewayResult }> {
    const lookup = ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
      o?.all ? cb(null, [{ address: target.ip, family: target.family }]) : cb(null, target.ip, target.family)) as unknown as LookupFunction;
    const limit = req.truncate ? Math.min(req.maxLength ?? MAX_GATEWAY_RESPONSE_BYTES, MAX_GATEWAY_RESPONSE_BYTES) : MAX_GATEWAY_RESPONSE_BYTES;
    return new Promise((resolve, reject) => {
      const mod = u.protocol === 'https:' ? https : http;
      const r = mod.request(
        u,
        { method, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) }, lookup, timeout: Math.max(1, deadline - Date.now()), agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          let n = 0;
          let cut = false;
          res.on('data', (c: Buffer) => {
            if (cut) return;
            if (n + c.length > limit) {
              if (!req.truncate) {
                res.destroy();
                return reject(new GatewayError('too_large', `the response is over ${limit} bytes (send "truncate": true to get its start)`));
              }
              chunks.push(c.subarray(0, limit - n));
              n = limit;
              cut = true;
              res.destroy();
              return finish();
            }
            chunks.push(c);
            n += c.length;
          });
          res.on('end', () => finish());
          res.on('error', (e) => reject(new GatewayError('upstream', e.message)));
          let done = false;
          const finish = () => {
            if (done) return;
            done = true;
            const data = Buffer.concat(chunks);
            const status = res.statusCode ?? 502;
            resolve({
              status,
              location: typeof res.headers.location === 'string' ? res.headers.location : null,
              result: {
                status,
                statusText: res.statusMessage ?? '',
                headers: cleanHeaders(res.headers),
                ...(req.responseType === 'arrayBuffer' ? { data_b64: data.toString('base64') } : { data: data.toString('utf8') }),
                ip: target.ip,
                port: target.port,
                name: u.hostname,
                bytesUp: body?.length ?? 0,
                bytesDown: n,
              },
            });
          };
        },
      );
      r.on('timeout', () => r.destroy(new GatewayError('timeout', `no answer within ${this.opts.timeoutMs ?? GATEWAY_TIMEOUT_MS} ms`)));
      r.on('error', (e) => reject(e instanceof GatewayError ? e : new GatewayError('upstream', e.message)));
      r.end(body ?? undefined);
    });
  }
}
