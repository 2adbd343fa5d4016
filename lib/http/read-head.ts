import type { Duplex } from 'node:stream';
import type { HeadParser, RequestHead, ResponseHead } from './head-parser.js';

export type HeadCallback<H> = (err: Error | null, head?: H, rest?: Buffer) => void;

/**
 * Feed `socket`'s bytes to `parser` until the head is complete. `done` runs
 * exactly once: with the head and the bytes that followed it in the same chunk
 * (the socket is then paused, so nothing after them is lost), or with the
 * parser's HeadParseError, a socket error, or an Error when the peer closed
 * first. Returns a function that detaches without calling `done`.
 */
export function readHead<K extends 'request' | 'response'>(
  socket: Duplex,
  parser: HeadParser<K>,
  done: HeadCallback<K extends 'request' ? RequestHead : ResponseHead>,
): () => void {
  let finished = false;
  const detach = (): void => {
    finished = true;
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    socket.off('error', onError);
  };
  const finish = (err: Error | null, head?: K extends 'request' ? RequestHead : ResponseHead, rest?: Buffer): void => {
    if (finished) return;
    detach();
    done(err, head, rest);
  };
  function onData(chunk: Buffer): void {
    if (finished) return;
    let result;
    try {
      result = parser.push(chunk);
    } catch (err) {
      socket.pause();
      finish(err as Error);
      return;
    }
    if (result !== null) {
      socket.pause();
      finish(null, result.head, result.rest);
    }
  }
  function onEnd(): void {
    finish(new Error('the peer closed the connection before the HTTP head was complete'));
  }
  function onError(err: Error): void {
    finish(err);
  }
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', onEnd);
  socket.on('error', onError);
  socket.resume();
  return detach;
}
