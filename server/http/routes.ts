import type { createAccountHandlers } from '../accounts/accountRoutes';
import type { createApiHandlers } from '../commands/apiRoutes';
import type { createSiteHandlers } from './siteRoutes';
import type { createNetHandler } from '../net/netRoutes';
import { ROOM_STATE_DOCS as RS, type createRoomStateHandlers } from '../roomstate/roomStateRoutes';
import type { Route, RouteHandler } from './router';

export interface RouteHandlers {
  site: ReturnType<typeof createSiteHandlers>;
  api: ReturnType<typeof createApiHandlers>;
  accounts: ReturnType<typeof createAccountHandlers>;
  net: ReturnType<typeof createNetHandler>;
  /** The recordings API (server/recordings/recordingRoutes.ts): one handler that reads its own path. */
  recordings: RouteHandler;
  roomStates: ReturnType<typeof createRoomStateHandlers>;
}

/**
 * Every route the server answers itself, in one table: method + path → handler. Which one answers
 * is decided by the pattern (static segments beat `:params`, which beat `*`), never by order; a
 * path that exists for other methods is a 405 with `Allow`; unknown /api/* paths are a JSON 404;
 * anything else goes to Next (pages, next-auth under /api/auth).
 */
export function routeTable(h: RouteHandlers): Route[] {
  const { site, api, accounts, net, recordings, roomStates } = h;
  return [
    // Recordings: read by the room's members (viewer and up; anyone in an open room), import of a .cast.
    { method: 'GET', path: '/api/rooms/:id/recordings', handler: recordings },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab', handler: recordings },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab/seek', handler: recordings },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab/events', handler: recordings },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab/marks', handler: recordings },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab/search', handler: recordings },
    { method: 'GET', path: '/api/rooms/:id/recordings/:tab/export.cast', handler: recordings },
    { method: 'POST', path: '/api/recordings/import', handler: recordings },

    // The site: health, the VM's files, the signed-out "new room" form.
    { method: 'GET', path: '/healthz', handler: site.health },
    { method: 'GET', path: '/vm/manifest.json', handler: site.manifest },
    { method: 'GET', path: '/vm/boot-snapshot/:version', handler: site.bootSnapshot },
    { method: 'PUT', path: '/vm/boot-snapshot/:version', handler: site.bootSnapshot },
    { method: 'GET', path: '/vm/disk/*', handler: site.disk },
    { method: 'GET', path: '/vm/*', handler: site.vmAsset },
    { method: 'POST', path: '/rooms/new', handler: site.newRoomForm },

    // The command API (API_KEY or a per-user token).
    { method: 'POST', path: '/api', handler: api.run },
    { method: 'GET', path: '/api', handler: api.read },
    { method: 'POST', path: '/api/commands/batch', handler: api.batch },
    { method: 'GET', path: '/api/commands/:id', handler: api.showCommand },
    { method: 'DELETE', path: '/api/commands/:id', handler: api.cancelCommand },
    { method: 'POST', path: '/api/commands/:id/cancel', handler: api.cancelCommand },
    { method: 'GET', path: '/api/rooms', handler: api.listRooms },
    { method: 'GET', path: '/api/rooms/:id', handler: api.showRoom },
    { method: 'POST', path: '/api/rooms/:id/commands', handler: api.runInRoom },
    { method: 'GET', path: '/api/rooms/:id/commands', handler: api.listRoomCommands },
    { method: 'GET', path: '/api/rooms/:id/commands/:commandId', handler: api.showRoomCommand },
    { method: 'DELETE', path: '/api/rooms/:id/commands/:commandId', handler: api.cancelRoomCommand },

    // Accounts, rooms, members and invites (the session cookie).
    { method: 'GET', path: '/api/me', handler: accounts.me },
    { method: 'POST', path: '/api/account/signup', handler: accounts.signUp },
    { method: 'GET', path: '/api/me/rooms', handler: accounts.myRooms },
    { method: 'POST', path: '/api/me/rooms', handler: accounts.createRoom },
    { method: 'GET', path: '/api/me/tokens', handler: accounts.listTokens },
    { method: 'POST', path: '/api/me/tokens', handler: accounts.createToken },
    { method: 'DELETE', path: '/api/me/tokens/:tokenId', handler: accounts.revokeToken },
    { method: 'PATCH', path: '/api/rooms/:id', handler: accounts.updateRoom },
    { method: 'DELETE', path: '/api/rooms/:id', handler: accounts.deleteRoom },
    { method: 'POST', path: '/api/rooms/:id/leave', handler: accounts.leave },
    { method: 'GET', path: '/api/rooms/:id/members', handler: accounts.members },
    { method: 'PATCH', path: '/api/rooms/:id/members/:memberId', handler: accounts.setMemberRole },
    { method: 'DELETE', path: '/api/rooms/:id/members/:memberId', handler: accounts.removeMember },
    { method: 'GET', path: '/api/rooms/:id/invites', handler: accounts.invites },
    { method: 'POST', path: '/api/rooms/:id/invites', handler: accounts.createInvite },
    { method: 'DELETE', path: '/api/rooms/:id/invites/:inviteId', handler: accounts.revokeInvite },
    { method: 'GET', path: '/api/invites/:token', handler: accounts.peekInvite },
    { method: 'POST', path: '/api/invites/:token/redeem', handler: accounts.redeemInvite },

    // The VMs' network: DNS over HTTPS (server-wide and the room's own), the host's network token, the
    // room's audit and Internet state, the seed's HTTP gateway.
    { method: 'GET', path: '/dns-query', handler: net.dnsQuery },
    { method: 'POST', path: '/dns-query', handler: net.dnsQuery },
    { method: 'POST', path: '/api/rooms/:id/net-token', handler: net.netToken },
    { method: 'GET', path: '/api/rooms/:id/net', handler: net.netAudit },
    { method: 'GET', path: '/api/rooms/:id/internet', handler: net.internet },
    { method: 'GET', path: '/net/:token/dns-query', handler: net.roomDnsQuery },
    { method: 'POST', path: '/net/:token/dns-query', handler: net.roomDnsQuery },
    { method: 'POST', path: '/api/gateway', handler: net.gateway },

    // The room's VM state (handover): the host uploads (its host key), whoever may host reads.
    { method: 'GET', path: '/api/rooms/:id/state', handler: roomStates.latest, doc: RS.latest },
    { method: 'PUT', path: '/api/rooms/:id/state', handler: roomStates.commit, doc: RS.commit },
    { method: 'POST', path: '/api/rooms/:id/state/missing', handler: roomStates.missing, doc: RS.missing },
    { method: 'POST', path: '/api/rooms/:id/state/chunks', handler: roomStates.chunks, doc: RS.chunks },
    { method: 'POST', path: '/api/rooms/:id/state/read', handler: roomStates.read, doc: RS.read },

    { method: 'GET', path: '/api/openapi.json', handler: site.openapi },
  ];
}
