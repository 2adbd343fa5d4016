import type { Socket } from 'node:net';

/**
 * For scripted raw servers: collect one HTTP request head from `socket`, then
 * call `then` with the head (through the blank line) and its Sec-WebSocket-Key.
 * The listener is removed first, so `then` owns the socket's later bytes.
 */
export function onRequestHead(socket: Socket, then: (head: string, key: string) => void): void {
  let buffered = '';
  const onData = (chunk: Buffer): void => {
    buffered += chunk.toString('latin1');
    const end = buffered.indexOf('\r\n\r\n');
    if (end === -1) return;
    socket.off('data', onData);
    const head = buffered.slice(0, end + 4);
    then(head, /\r\nSec-WebSocket-Key: ([^\r]*)\r\n/i.exec(head)?.[1] ?? '');
  };
  socket.on('data', onData);
}
