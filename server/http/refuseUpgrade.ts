import type { Duplex } from 'node:stream';
import http from 'node:http';
import type { ErrorCode } from '../../lib/shared/errors';
import { STATUS_OF } from '../commands/HttpError';

/** Answers a WebSocket upgrade we will not take with a plain HTTP error and a JSON body. */
export function refuseUpgrade(socket: Duplex, code: ErrorCode, message: string): void {
  const status = STATUS_OF[code] ?? 500;
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
