/**
 * Benchmark child: the floor, a bare Socket.IO server with the relay's transport options. The first
 * client asking to host is the host; everyone else joins the room, and each 'term:out' from the
 * host goes out as io.to(room).emit('term:out', payload). No validation, mirror or backpressure:
 * what any Socket.IO relay of the same messages costs at least.
 */
import http from 'node:http';
import { Server } from 'socket.io';
import { MAX_SOCKET_FRAME_BYTES } from '../../lib/shared/protocol';
import { serveIpc } from './ipc';

const server = http.createServer((_req, res) => res.writeHead(404).end());
const io = new Server(server, {
  path: '/socket.io',
  destroyUpgrade: false,
  maxHttpBufferSize: MAX_SOCKET_FRAME_BYTES,
  perMessageDeflate: false,
  serveClient: false,
});

let hostId: string | null = null;
io.on('connection', (socket) => {
  const auth = socket.handshake.auth as { room?: string; wantHost?: boolean };
  const room = `g:${String(auth.room ?? 'default')}`;
  if (auth.wantHost && hostId === null) {
    hostId = socket.id;
    socket.on('term:out', (payload: unknown) => {
      io.to(room).emit('term:out', payload);
    });
    socket.on('disconnect', () => {
      if (hostId === socket.id) hostId = null;
    });
  } else {
    socket.join(room);
  }
});

const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));

serveIpc(port, { peers: () => io.sockets.sockets.size }, () => {
  server.closeAllConnections();
});
