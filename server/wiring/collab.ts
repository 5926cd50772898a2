import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Db } from '../db';
import { log as rootLog } from '../log';
import { verifyHostToken } from '../auth/hostToken';
import { YjsDocs } from '../collab/YjsDocs';
import { YjsEndpoint } from '../collab/YjsEndpoint';
import { KeyboardControl } from '../access/KeyboardControl';
import type { RoomAccess } from '../access/RoomAccess';
import { signedInWith, type Authenticator } from '../access/Authenticator';
import { createYjsAuthorizer, yjsPeer } from '../access/gates';
import type { SocketQuota } from '../access/SocketQuota';
import { refuseUpgrade } from '../http/refuseUpgrade';
import type { SessionStore } from '../accounts/SessionStore';
import type { RelayHub } from '../relay/attachRelay';
import { HEADLESS_ACCESS } from '../relay/relayHandshake';

/**
 * Shared room state: the rooms' Yjs documents (presence, notes), the keyboard's authority that
 * they mirror, and the /yjs/<room> WebSocket endpoint, its peers authorized like the relay's.
 */
export function wireCollab(d: { db: Db; access: RoomAccess; authn: Authenticator; secret: string; roomExists: (id: string) => boolean }) {
  const docs = new YjsDocs({ db: d.db, log: rootLog.child({ cap: 'yjs' }) });
  // The keyboard's authority; the rooms' Yjs documents mirror it for everyone to see.
  const keyboard = new KeyboardControl({ mirror: docs, memberCanType: (room, memberId) => d.access.memberCanType(room, memberId) });
  const yjs = new YjsEndpoint({
    docs,
    roomExists: d.roomExists,
    log: rootLog.child({ cap: 'yjs' }),
    authorize: createYjsAuthorizer({
      authn: d.authn,
      // The server's headless host shows up in presence too (its page passes its host token).
      headless: (req, roomId) => {
        const hostToken = new URL(req.url ?? '/', 'http://x').searchParams.get('host');
        return hostToken && verifyHostToken(d.secret, hostToken, roomId) ? { memberId: HEADLESS_ACCESS.memberId, name: HEADLESS_ACCESS.name, canWrite: false } : null;
      },
    }),
  });
  return { docs, keyboard, yjs };
}

/**
 * Access that changes reaches live connections, not only the next request: a role change rechecks
 * the room's Yjs peers and keyboard (a demoted holder loses the keyboard), a room closed to everyone
 * drops them, and signing out ends that session's sockets.
 */
export function followAccessChanges(d: {
  access: RoomAccess;
  sessions: SessionStore;
  hub: RelayHub;
  yjs: YjsEndpoint;
  keyboard: KeyboardControl;
}): void {
  const { access, yjs, keyboard, hub } = d;
  const onAccessChange = (roomId: string) => {
    yjs.revalidate(roomId, (memberId) => {
      const a = access.memberAccess(roomId, memberId);
      return a && yjsPeer(a);
    });
    keyboard.recheck(roomId);
  };
  access.events.on('changed', onAccessChange);
  access.events.on('removed', (roomId, ids) => {
    if (!ids.includes('*')) return onAccessChange(roomId);
    yjs.revalidate(roomId, () => null);
    keyboard.forget(roomId);
  });
  // A room's keyboard entry goes with its relay (it reloads from the document when used again).
  hub.events.on('closed', (roomId) => keyboard.forget(roomId));
  // Signing out (or revoking a session) ends that session's live connections, not only its next request.
  d.sessions.events.on('ended', (sids) => {
    hub.disconnectWhere((p) => signedInWith(p, sids), { code: 'UNAUTHORIZED', message: 'you signed out' });
    yjs.closeWhere((peer) => peer.sid !== undefined && sids.includes(peer.sid));
  });
}

/** The /yjs/* upgrade: Yjs connections count against the same per-address quota as the terminal's sockets. */
export function yjsUpgrade(d: { yjs: YjsEndpoint; quota: SocketQuota; clientAddress: (req: http.IncomingMessage) => string }) {
  return (req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean => {
    if (!url.pathname.startsWith('/yjs/')) return false;
    const release = d.quota.acquire(d.clientAddress(req));
    if (!release) {
      refuseUpgrade(socket, 'QUOTA_EXCEEDED', `at most ${d.quota.maxPerIp} connections per address`);
      return true;
    }
    socket.once('close', release);
    return d.yjs.handleUpgrade(req, socket, head, url);
  };
}
