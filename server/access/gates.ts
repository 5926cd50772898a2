import type { IncomingMessage } from 'node:http';
import type { Handshake } from '../../lib/shared/protocol';
import type { RelayGate } from '../relay/relayHandshake';
import type { YjsPeer } from '../collab/YjsEndpoint';
import type { Authenticator } from './Authenticator';
import type { KeyboardControl } from './KeyboardControl';
import { userMemberId, type Access, type Identity, type RoomAccess } from './RoomAccess';

/** Anonymous visitors of open rooms: their member ids start so, and they choose their own name. */
const isAnonymous = (memberId: string) => memberId.startsWith('a:');

/** What the terminal relay asks the access layer: who a connection is, whether they may type, the keyboard requests. */
export function createRelayGate(d: { authn: Authenticator; access: RoomAccess; keyboard: KeyboardControl }): RelayGate {
  return {
    events: d.access.events,
    async authenticate(req, hs: Handshake) {
      const principal = await d.authn.principals(req.headers, hs.room);
      const a = d.authn.resolve(hs.room, principal, hs.clientId);
      return { access: isAnonymous(a.memberId) && hs.name ? { ...a, name: hs.name } : a, principal };
    },
    recheck: (room, principal, hs) => {
      try {
        return d.authn.resolve(room, principal as Identity[], hs.clientId);
      } catch {
        return null;
      }
    },
    mayType: (room, a) => d.keyboard.mayType(room, a),
    control: (room, a, event, msg) => d.keyboard.request(room, a, event, msg),
  };
}

/** A Yjs connection's standing from its access: drivers and above write the notes. */
export function yjsPeer(a: Pick<Access, 'memberId' | 'name' | 'canType'>): YjsPeer {
  return { memberId: a.memberId, name: isAnonymous(a.memberId) ? null : a.name, canWrite: a.canType };
}

/** Decides a Yjs connection from its cookies, as the relay's handshake does; the server's headless host by its host token. */
export function createYjsAuthorizer(d: { authn: Authenticator; headless: (req: IncomingMessage, roomId: string) => YjsPeer | null }) {
  return async (req: IncomingMessage, roomId: string): Promise<YjsPeer> => {
    const headless = d.headless(req, roomId);
    if (headless) return headless;
    const principals = await d.authn.principals(req.headers, roomId);
    const a = d.authn.resolve(roomId, principals);
    // The session it came with: signing out closes it.
    const user = principals.find((p) => p.kind === 'user' && a.memberId === userMemberId(p.userId));
    return { ...yjsPeer(a), sid: user?.kind === 'user' ? user.sid : undefined };
  };
}
