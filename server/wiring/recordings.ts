import path from 'node:path';
import type http from 'node:http';
import type { Env } from '../env';
import { log as rootLog } from '../log';
import type { RoomStore } from '../rooms/RoomStore';
import type { MembershipStore } from '../accounts/MembershipStore';
import type { Authenticator } from '../access/Authenticator';
import { Recorder } from '../recordings/Recorder';
import { createRecordingHandlers } from '../recordings/recordingRoutes';

/**
 * Recordings: the recorder the relay writes every room's stream to (under DATA_DIR/recordings,
 * capped and expired per the env), and its routes (download, replay, import as a replay room).
 */
export function wireRecordings(d: {
  env: Env;
  dataDir: string;
  rooms: RoomStore;
  members: MembershipStore;
  authn: Authenticator;
  roomExists: (id: string) => boolean;
  /** Admits a signed-out import under the open rooms' caps; its creator key. */
  admitOpenRoom: (req: http.IncomingMessage) => string;
}) {
  const { env, rooms, members, authn } = d;
  const log = rootLog.child({ cap: 'recordings' });
  const recorder = new Recorder({
    dir: path.join(d.dataDir, 'recordings'),
    maxRoomBytes: env.RECORDING_MAX_MB * 2 ** 20,
    retentionMs: env.RECORDING_RETENTION_DAYS * 86_400_000,
    recordInput: (id) => rooms.get(id)?.recordInput ?? false,
    roomExists: d.roomExists,
    log,
  });
  const routes = createRecordingHandlers({
    recorder,
    authorize: async (req, roomId) => {
      authn.resolve(roomId, await authn.principals(req.headers, roomId));
    },
    room: (id) => rooms.get(id),
    createReplayRoom: async (req, name) => {
      const user = await authn.user(req.headers);
      // Signed out, an import is an open room: the same caps as any open room's creation.
      const creatorKey = user ? null : d.admitOpenRoom(req);
      const room = rooms.create(name, { replayOnly: true, creatorKey });
      if (user) members.addOwner(room.id, user.id);
      return { id: room.id, name: room.name };
    },
    deleteRoom: (id) => rooms.delete(id),
    publicOrigin: new URL(env.PUBLIC_URL).origin,
    log,
  });
  return { recorder, routes };
}
