import type http from 'node:http';
import { HttpError } from '../http/errors';
import { verifyHostToken } from '../auth/hostToken';
import { presentedKey, type ApiAuthenticator } from '../commands/apiAuth';
import type { Authenticator } from '../access/Authenticator';
import type { RoomAccess } from '../access/RoomAccess';
import type { MembershipStore } from '../accounts/MembershipStore';
import type { RoomStore } from '../rooms/RoomStore';
import { HEADLESS_ACCESS } from '../relay/relayHandshake';

/** Who may use a room's network routes: its audit log (owners, API credentials) and its gateway. */
export function netAccess(d: {
  rooms: RoomStore;
  members: MembershipStore;
  access: RoomAccess;
  authn: Authenticator;
  apiAuth: ApiAuthenticator;
  secret: string;
}) {
  const { rooms, members, access, authn, apiAuth } = d;
  return {
    // Owners read their room's network audit; API credentials (the key, an instructor's token) too.
    async requireAuditReader(req: http.IncomingMessage, url: URL, room: string): Promise<void> {
      if (!rooms.get(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
      if (presentedKey(req, url)) {
        if (!apiAuth(req, url).mayUseRoom(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
        return;
      }
      const user = await authn.user(req.headers);
      if (!user) throw new HttpError('UNAUTHORIZED', 'sign in as an owner of the room, or use an API key');
      access.requireRole(room, user.id, 'owner');
    },
    // The seed's gateway: API credentials, the room's host token (its headless host), or a member's session.
    async authorizeGateway(req: http.IncomingMessage, url: URL, room: string): Promise<string> {
      if (!rooms.get(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
      if (presentedKey(req, url)) {
        const p = apiAuth(req, url);
        if (!p.mayUseRoom(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
        return p.kind === 'user' ? `u:${p.userId}` : 'api';
      }
      const hostTokenHeader = req.headers['x-host-token'];
      if (typeof hostTokenHeader === 'string' && verifyHostToken(d.secret, hostTokenHeader, room)) return HEADLESS_ACCESS.memberId;
      const user = await authn.user(req.headers);
      if (user && members.role(room, user.id)) return `u:${user.id}`;
      throw new HttpError('UNAUTHORIZED', "the gateway needs an API key, the room's host token or a member's session", { 'www-authenticate': 'Bearer' });
    },
  };
}
