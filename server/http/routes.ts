import type { createAccountHandlers } from '../accounts/accountRoutes';
import type { createApiHandlers } from '../commands/apiRoutes';
import type { createSiteHandlers } from './siteRoutes';
import type { createNetHandler } from '../net/netRoutes';
import { ROOM_STATE_DOCS as RS, type createRoomStateHandlers } from '../roomstate/roomStateRoutes';
import type { Route } from './router';
import { apiDocs } from '../commands/apiDocs';
import { accountDocs } from '../accounts/accountDocs';
import { netDocs } from '../net/netDocs';
import { recordingDocs } from '../recordings/recordingDocs';
import type { createRecordingHandlers } from '../recordings/recordingRoutes';
import { siteDocs } from './siteDocs';

export interface RouteHandlers {
  site: ReturnType<typeof createSiteHandlers>;
  api: ReturnType<typeof createApiHandlers>;
  accounts: ReturnType<typeof createAccountHandlers>;
  net: ReturnType<typeof createNetHandler>;
  recordings: ReturnType<typeof createRecordingHandlers>;
  roomStates: ReturnType<typeof createRoomStateHandlers>;
}

/**
 * Every route the server answers itself, in one table: method + path → handler. Which one answers
 * is decided by the pattern (static segments beat `:params`, which beat `*`), never by order; a
 * path that exists for other methods is a 405 with `Allow`; unknown /api/* paths are a JSON 404;
 * anything else goes to Next (pages, next-auth under /api/auth).
 *
 * How to document a route. Every route here has a `doc` (it is in the OpenAPI document served at
 * /api/openapi.json) or says why not in `undocumented` (files, HTML forms); routes.test.ts fails
 * on a route with neither. A doc is a RouteDoc (server/http/routeDoc.ts), kept beside the handlers
 * in the capability's `*Docs.ts` (commands/apiDocs.ts is the fullest example):
 *   1. Validate the request with zod schemas and export them: `parse(mySchema, await body(req))`,
 *      `parse(myQuerySchema, Object.fromEntries(url.searchParams))`.
 *   2. Describe the route with those same schemas: `{ tag, auth, summary, params, query, body,
 *      responses: { 200: { description, schema } }, errors: [403, 404] }`. Answers get a zod schema
 *      too (the JSON the handler sends); `.meta({ id: 'Name' })` makes a schema a named component.
 *   3. Put it here: `{ method, path, handler, doc: myDocs.thing }`.
 * The document is generated from these (server/http/openapi.ts, zod's z.toJSONSchema), so it says
 * what the code accepts; openapi.integration.test.ts validates it as OpenAPI 3.1.
 */
export function routeTable(h: RouteHandlers): Route[] {
  const { site, api, accounts, net, recordings, roomStates } = h;
  return [
    // Recordings: read by the room's members (viewer and up; anyone in an open room), import of a .cast.
    { method: 'GET', path: '/api/rooms/:id/recordings', handler: recordings.list, doc: recordingDocs.list },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab', handler: recordings.terminal, doc: recordingDocs.info },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab/seek', handler: recordings.seek, doc: recordingDocs.seek },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab/events', handler: recordings.events, doc: recordingDocs.events },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab/marks', handler: recordings.marks, doc: recordingDocs.marks },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab/search', handler: recordings.search, doc: recordingDocs.search },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab/export.cast', handler: recordings.exportCast, doc: recordingDocs.exportCast },
    { method: 'POST', path: '/api/recordings/import', handler: recordings.importCast, doc: recordingDocs.importCast },

    // The site: health, the VM's files, the signed-out "new room" form.
    { method: 'GET', path: '/healthz', handler: site.health, doc: siteDocs.health },
    { method: 'GET', path: '/vm/manifest.json', handler: site.manifest, doc: siteDocs.manifest },
    { method: 'GET', path: '/vm/boot-snapshot/:version', handler: site.bootSnapshot, undocumented: 'a VM boot snapshot (binary)' },
    { method: 'PUT', path: '/vm/boot-snapshot/:version', handler: site.bootSnapshot, undocumented: 'a VM boot snapshot (binary)' },
    { method: 'GET', path: '/vm/disk/*', handler: site.disk, undocumented: 'the root disk (binary, Range requests)' },
    { method: 'GET', path: '/vm/*', handler: site.vmAsset, undocumented: 'the VM files (kernel, BIOS, binaries)' },
    { method: 'POST', path: '/rooms/new', handler: site.newRoomForm, undocumented: 'an HTML form post that redirects to the room' },

    // The command API (API_KEY or a per-user token).
    { method: 'POST', path: '/api', handler: api.run, doc: apiDocs.run },
    { method: 'GET', path: '/api', handler: api.read, doc: apiDocs.read },
    { method: 'POST', path: '/api/commands/batch', handler: api.batch, doc: apiDocs.batch },
    { method: 'GET', path: '/api/commands/:id', handler: api.showCommand, doc: apiDocs.showCommand },
    { method: 'DELETE', path: '/api/commands/:id', handler: api.cancelCommand, doc: apiDocs.cancelCommand },
    { method: 'POST', path: '/api/commands/:id/cancel', handler: api.cancelCommand, doc: apiDocs.cancelCommandPost },
    { method: 'GET', path: '/api/rooms', handler: api.listRooms, doc: apiDocs.listRooms },
    { method: 'GET', path: '/api/rooms/:id', handler: api.showRoom, doc: apiDocs.showRoom },
    { method: 'POST', path: '/api/rooms/:id/commands', handler: api.runInRoom, doc: apiDocs.runInRoom },
    { method: 'GET', path: '/api/rooms/:id/commands', handler: api.listRoomCommands, doc: apiDocs.listRoomCommands },
    { method: 'GET', path: '/api/rooms/:id/commands/:commandId', handler: api.showRoomCommand, doc: apiDocs.showRoomCommand },
    { method: 'DELETE', path: '/api/rooms/:id/commands/:commandId', handler: api.cancelRoomCommand, doc: apiDocs.cancelRoomCommand },

    // Accounts, rooms, members and invites (the session cookie).
    { method: 'GET', path: '/api/me', handler: accounts.me, doc: accountDocs.me },
    { method: 'POST', path: '/api/account/signup', handler: accounts.signUp, doc: accountDocs.signUp },
    { method: 'GET', path: '/api/me/rooms', handler: accounts.myRooms, doc: accountDocs.myRooms },
    { method: 'POST', path: '/api/me/rooms', handler: accounts.createRoom, doc: accountDocs.createRoom },
    { method: 'GET', path: '/api/me/tokens', handler: accounts.listTokens, doc: accountDocs.listTokens },
    { method: 'POST', path: '/api/me/tokens', handler: accounts.createToken, doc: accountDocs.createToken },
    { method: 'DELETE', path: '/api/me/tokens/:tokenId', handler: accounts.revokeToken, doc: accountDocs.revokeToken },
    { method: 'PATCH', path: '/api/rooms/:id', handler: accounts.updateRoom, doc: accountDocs.updateRoom },
    { method: 'DELETE', path: '/api/rooms/:id', handler: accounts.deleteRoom, doc: accountDocs.deleteRoom },
    { method: 'POST', path: '/api/rooms/:id/leave', handler: accounts.leave, doc: accountDocs.leave },
    { method: 'GET', path: '/api/rooms/:id/members', handler: accounts.members, doc: accountDocs.members },
    { method: 'PATCH', path: '/api/rooms/:id/members/:memberId', handler: accounts.setMemberRole, doc: accountDocs.setMemberRole },
    { method: 'DELETE', path: '/api/rooms/:id/members/:memberId', handler: accounts.removeMember, doc: accountDocs.removeMember },
    { method: 'GET', path: '/api/rooms/:id/invites', handler: accounts.invites, doc: accountDocs.invites },
    { method: 'POST', path: '/api/rooms/:id/invites', handler: accounts.createInvite, doc: accountDocs.createInvite },
    { method: 'DELETE', path: '/api/rooms/:id/invites/:inviteId', handler: accounts.revokeInvite, doc: accountDocs.revokeInvite },
    { method: 'GET', path: '/api/invites/:token', handler: accounts.peekInvite, doc: accountDocs.peekInvite },
    { method: 'POST', path: '/api/invites/:token/redeem', handler: accounts.redeemInvite, doc: accountDocs.redeemInvite },

    // The VMs' network: DNS over HTTPS (server-wide and the room's own), the host's network token, the
    // room's audit and Internet state, the seed's HTTP gateway.
    { method: 'GET', path: '/dns-query', handler: net.dnsQuery, doc: netDocs.dnsQueryGet },
    { method: 'POST', path: '/dns-query', handler: net.dnsQuery, doc: netDocs.dnsQueryPost },
    { method: 'POST', path: '/api/rooms/:id/net-token', handler: net.netToken, doc: netDocs.netToken },
    { method: 'GET', path: '/api/rooms/:id/net', handler: net.netAudit, doc: netDocs.netAudit },
    { method: 'GET', path: '/api/rooms/:id/internet', handler: net.internet, doc: netDocs.internet },
    { method: 'GET', path: '/net/:token/dns-query', handler: net.roomDnsQuery, doc: netDocs.roomDnsQueryGet },
    { method: 'POST', path: '/net/:token/dns-query', handler: net.roomDnsQuery, doc: netDocs.roomDnsQueryPost },
    { method: 'POST', path: '/api/gateway', handler: net.gateway, doc: netDocs.gateway },

    // The room's VM state (handover): the host uploads (its host key), whoever may host reads.
    { method: 'GET', path: '/api/rooms/:id/state', handler: roomStates.latest, doc: RS.latest },
    { method: 'PUT', path: '/api/rooms/:id/state', handler: roomStates.commit, doc: RS.commit },
    { method: 'POST', path: '/api/rooms/:id/state/missing', handler: roomStates.missing, doc: RS.missing },
    { method: 'POST', path: '/api/rooms/:id/state/chunks', handler: roomStates.chunks, doc: RS.chunks },
    { method: 'POST', path: '/api/rooms/:id/state/read', handler: roomStates.read, doc: RS.read },
    { method: 'POST', path: '/api/rooms/:id/state/final', handler: roomStates.final, doc: RS.final },
    { method: 'GET', path: '/room-state-worker.js', handler: roomStates.worker, undocumented: 'the service worker that finishes a leaving host’s VM state upload (script)' },

    { method: 'GET', path: '/api/openapi.json', handler: site.openapi, doc: siteDocs.openapi },
  ];
}
