import * as net from 'node:net';
import { once } from 'node:events';

/**
 * A raw TCP client that completes a WebSocket upgrade by hand: returns the
 * socket, the response head and the bytes that followed it.
 */
export async function rawUpgrade(port: number, extraHeaders = ''): Promise<{ socket: net.Socket; head: string; rest: Buffer }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`,
  );
  let buffered = Buffer.alloc(0);
  while (!buffered.includes('\r\n\r\n')) buffered = Buffer.concat([buffered, (await once(socket, 'data'))[0] as Buffer]);
  const end = buffered.indexOf('\r\n\r\n') + 4;
  return { socket, head: buffered.subarray(0, end).toString('latin1'), rest: buffered.subarray(end) };
}
