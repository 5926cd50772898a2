import { z } from 'zod';
import { DEFAULT_NET_AUDIT_DAYS } from './NetAudit';
import { MAX_DOH_QUERY_BYTES } from './DohResolver';
import { DOH_QUERIES_PER_MINUTE, GATEWAY_REQUESTS_PER_MINUTE, netListQuerySchema, netTokenRequestSchema } from './netRoutes';
import { GATEWAY_TIMEOUT_MS, MAX_GATEWAY_REDIRECTS, MAX_GATEWAY_REQUEST_BYTES, MAX_GATEWAY_RESPONSE_BYTES, gatewayRequestSchema } from './Gateway';

/** The zod schemas of the network routes' answers: one source for the OpenAPI document. */
const internetStateSchema = z.object({
  on: z.boolean().describe("The room's VM may connect now."),
  switch: z.boolean().nullable().describe("The room's own switch (PATCH /api/rooms/{roomId} {internet}); null follows the server's NET."),
  mode: z.enum(['members', 'on', 'off']).describe('NET in effect (auto resolved: on when the server listens on loopback only, else members).'),
  reason: z.enum(['server_off', 'switch_off', 'members_only']).nullable(),
});
const auditRowSchema = z.object({
  id: z.number().int(),
  room: z.string(),
  host: z.string().describe('The member whose browser hosted the VM (`u:…`, `g:…`, `a:…`, `h:headless`).'),
  kind: z.enum(['wisp', 'gateway']),
  ip: z.string().nullable(),
  port: z.number().int(),
  name: z.string().nullable().describe("The name the VM looked up through the server's DNS, when known."),
  bytesUp: z.number().int(),
  bytesDown: z.number().int(),
  startedAt: z.string().describe('ISO 8601'),
  durationMs: z.number().int(),
  refused: z.string().nullable().describe('Why it was refused (loopback, private, link_local, self, smtp, denied, internet_off, throttled, room_streams, …); null if allowed.'),
  closeReason: z.number().int().nullable().describe('Wisp close reason (0x02 voluntary, 0x48 blocked, 0x49 throttled, …).'),
});
export const netAuditResponseSchema = z.object({
  room: z.string(),
  internet: internetStateSchema,
  live: z.object({ sessions: z.number().int(), openStreams: z.number().int(), counters: z.record(z.string(), z.number()) }),
  last24h: z.object({ connections: z.number().int(), refused: z.number().int(), bytesUp: z.number().int(), bytesDown: z.number().int() }),
  connections: z.array(auditRowSchema).describe('Newest first.'),
});
const netTokenResponseSchema = z.object({
  path: z.string().describe('The Wisp endpoint, `/net/<token>/` (use it as wisp(s)://<origin>/net/<token>/).'),
  mtu: z.number().int(),
  internet: internetStateSchema,
});

const gatewayResponseSchema = z.object({
  status: z.number().int().describe("The destination's HTTP status (a 3xx only with followRedirects: false)."),
  statusText: z.string(),
  headers: z.record(z.string(), z.string()).describe('Lower-cased; cookies and hop-by-hop headers removed.'),
  data: z.string().optional().describe('The body as UTF-8 text (responseType "text").'),
  data_b64: z.string().optional().describe('The body, base64 (responseType "arrayBuffer").'),
});

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } });
const err = { $ref: '#/components/responses/Error' };

export const netOpenApiPaths = {
  '/api/rooms/{roomId}/net': {
    parameters: [{ $ref: '#/components/parameters/RoomIdPath' }],
    get: {
      summary: "The room's network: its Internet state, live streams and the connection audit",
      description:
        `Every connection the room's VM opened or was refused, newest first (kept ${DEFAULT_NET_AUDIT_DAYS} days by default, NET_AUDIT_DAYS). ` +
        "For the room's owners (session cookie) and API credentials that may use the room.",
      operationId: 'getRoomNet',
      parameters: Object.entries(z.toJSONSchema(netListQuerySchema, { io: 'input' }).properties ?? {}).map(([name, schema]) => ({ name, in: 'query', schema })),
      responses: { '200': { description: 'The audit.', content: json(netAuditResponseSchema) }, '400': err, '401': err, '403': err, '404': err },
    },
  },
  '/api/rooms/{roomId}/net-token': {
    parameters: [{ $ref: '#/components/parameters/RoomIdPath' }],
    post: {
      summary: "The host's network token (the page calls this before booting its VM)",
      description: "Only the connection holding the room's host seat gets one: `sid` is its Socket.IO connection id.",
      operationId: 'getNetToken',
      security: [],
      requestBody: { required: true, content: json(netTokenRequestSchema) },
      responses: { '200': { description: 'The token.', content: json(netTokenResponseSchema) }, '400': err, '403': err },
    },
  },
  '/api/rooms/{roomId}/internet': {
    parameters: [{ $ref: '#/components/parameters/RoomIdPath' }],
    get: {
      summary: "Whether the room's VM has Internet now, and why not",
      description: "As public as the room's link (the room page's badge reads it). Owners switch it with PATCH /api/rooms/{roomId} {\"internet\": false|true|null}; open connections are cut at once.",
      operationId: 'getRoomInternet',
      security: [],
      responses: { '200': { description: 'The state.', content: json(internetStateSchema) }, '404': err },
    },
  },
  '/api/gateway': {
    post: {
      summary: "The seed's HTTP gateway: fetch one URL through the server, under the VM network's policy",
      description:
        'Every resolved address of every hop is checked like a VM CONNECT (loopback, private, link-local, CGNAT, ULA, multicast, reserved and their ' +
        `IPv4-mapped forms refused unless NET_ALLOW opens them): 403 names the reason. Redirects are followed by hand, at most ${MAX_GATEWAY_REDIRECTS}. ` +
        `Bodies up to ${MAX_GATEWAY_REQUEST_BYTES} bytes (body, or body_b64 for binary), answers up to ${MAX_GATEWAY_RESPONSE_BYTES} bytes ` +
        `(more: 413, or its start with "truncate": true), ${GATEWAY_TIMEOUT_MS / 1000} s, ${GATEWAY_REQUESTS_PER_MINUTE} requests a minute per caller. ` +
        "Credentials: an API key or a token that may use the room, a member's session, the headless host's `x-host-token`, or the host seat's network token " +
        "in `x-net-token` (a CheerpX host page, for its guests' curl/wget wrappers; then the room's whole Internet state applies). " +
        "Refused (403) while the room's Internet is off. Every request is in the room's network audit (kind gateway).",
      operationId: 'gatewayFetch',
      parameters: [{ name: 'x-net-token', in: 'header', required: false, schema: { type: 'string' }, description: "The host seat's network token (the `<token>` of net-token's path)." }],
      requestBody: { required: true, content: json(gatewayRequestSchema) },
      responses: { '200': { description: "The destination's answer (any status).", content: json(gatewayResponseSchema) }, '400': err, '401': err, '403': err, '404': err, '413': err, '429': err, '502': err, '504': err },
    },
  },
  '/dns-query': {
    get: {
      summary: 'DNS over HTTPS (RFC 8484) for the VMs',
      description:
        `A and AAAA answers from NET_HOSTS and the server's resolver, cached by TTL; addresses the network policy refuses are dropped ` +
        `(a name with only such addresses answers REFUSED). The room page sends its VM's queries to \`/net/<token>/dns-query\` instead (same protocol), ` +
        `which answers REFUSED while the room's Internet is off. At most ${MAX_DOH_QUERY_BYTES} bytes a query, ${DOH_QUERIES_PER_MINUTE} queries a minute per client address.`,
      operationId: 'dnsQueryGet',
      security: [],
      parameters: [{ name: 'dns', in: 'query', required: true, schema: { type: 'string' }, description: 'The DNS message, base64url without padding.' }],
      responses: { '200': { description: 'The DNS answer.', content: { 'application/dns-message': {} } }, '400': err, '413': err, '429': err },
    },
    post: {
      summary: 'DNS over HTTPS (RFC 8484), the message as the body',
      operationId: 'dnsQueryPost',
      security: [],
      requestBody: { required: true, content: { 'application/dns-message': {} } },
      responses: { '200': { description: 'The DNS answer.', content: { 'application/dns-message': {} } }, '400': err, '413': err, '415': err, '429': err },
    },
  },
};
