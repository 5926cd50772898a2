import type { Socket } from 'socket.io-client';
import { RoomStateClient } from '../../vm/RoomStateClient';
import { gzip } from '../../vm/snapshotStore';

/**
 * For the server's integration tests' stand-in host page (server/testing/fakeHostPage.ts): asked to
 * yield (host:yield), it saves a small state of its "VM" (a v86 state's magic and random bytes)
 * through the real RoomStateClient with its host key, then gives the VM, as RoomSession.give does.
 */
const host = (globalThis as unknown as { tandemTestHost?: { socket: Socket; room: string; hostToken?: string } }).tandemTestHost;
if (host) {
  const { socket, room, hostToken } = host;
  let hostKey: string | undefined;
  socket.on('room:state', (st: { seat: string; hostKey?: string }) => {
    if (st.seat === 'host') hostKey = st.hostKey;
  });
  socket.on('host:yield', async (y: { peer: string }) => {
    const m = (await (await fetch(`/vm/manifest.json?room=${room}`)).json()) as { version: string; disk?: { version: string } };
    const raw = new Uint8Array(4096);
    new DataView(raw.buffer).setUint32(0, 0x86768676, true);
    crypto.getRandomValues(raw.subarray(4));
    await new RoomStateClient({ room, hostKey: () => hostKey, hostToken }).upload({
      vmGz: await gzip(raw.buffer),
      pages: [],
      guestVersion: m.version,
      diskVersion: m.disk?.version ?? null,
      overlayId: null,
      overlayGeneration: 0,
    });
    socket.emit('host:give', { to: y.peer });
  });
}
