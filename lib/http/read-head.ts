import type { Duplex } from 'node:stream';
import type { HeadParser, RequestHead, ResponseHead } from './head-parser.js';

export type HeadCallback<H> = (err: Error | null, head?: H, rest?: Buffer) => void;

/** Who hears the outcome of a {@link HeadReader}. */
export interface HeadSink<H> {
  onHead(err: Error | null, head?: H, rest?: Buffer): void;
}

const kReader = Symbol('rfcws.headReader');
type ReadingSocket = Duplex & { [kReader]?: HeadReader<'request' | 'response'> };

/**
 * Feeds `socket`'s bytes to `parser` until the head is complete. `sink.onHead`
 * runs exactly once: with the head and the bytes that followed it in the same
 * chunk (the socket is then paused, so nothing after them is lost), or with
 * the parser's HeadParseError, a socket error, or an Error when the peer
 * closed first. `stop()` detaches without calling it. The socket listeners are
 * shared by every reader (they find theirs through the socket): a handshake
 * allocates this one object, no closures.
 */
export class HeadReader<K extends 'request' | 'response'> {
  private finished = false;

  constructor(
    private readonly socket: Duplex,
    private readonly parser: HeadParser<K>,
    private readonly sink: HeadSink<K extends 'request' ? RequestHead : ResponseHead>,
  ) {
    (socket as ReadingSocket)[kReader] = this as HeadReader<'request' | 'response'>;
    socket.on('data', onReaderData);
    socket.on('end', onReaderEnd);
    socket.on('close', onReaderEnd);
    socket.on('error', onReaderError);
    socket.resume();
  }

  /** Detach without calling the sink. */
  stop(): void {
    if (this.finished) return;
    this.finished = true;
    const socket = this.socket;
    (socket as ReadingSocket)[kReader] = undefined;
    socket.off('data', onReaderData);
    socket.off('end', onReaderEnd);
    socket.off('close', onReaderEnd);
    socket.off('error', onReaderError);
  }

  /** @internal */
  finish(err: Error | null, head?: K extends 'request' ? RequestHead : ResponseHead, rest?: Buffer): void {
    if (this.finished) return;
    this.stop();
    this.sink.onHead(err, head, rest);
  }

  /** @internal */
  data(chunk: Buffer): void {
    if (this.finished) return;
    let result;
    try {
      result = this.parser.push(chunk);
    } catch (err) {
      this.socket.pause();
      this.finish(err as Error);
      return;
    }
    if (result !== null) {
      this.socket.pause();
      this.finish(null, result.head, result.rest);
    }
  }
}

function onReaderData(this: ReadingSocket, chunk: Buffer): void {
  this[kReader]?.data(chunk);
}

function onReaderEnd(this: ReadingSocket): void {
  this[kReader]?.finish(new Error('the peer closed the connection before the HTTP head was complete'));
}

function onReaderError(this: ReadingSocket, err: Error): void {
  this[kReader]?.finish(err);
}

/**
 * {@link HeadReader} with a callback: `done` runs exactly once (see there).
 * Returns a function that detaches without calling `done`.
 */
export function readHead<K extends 'request' | 'response'>(
  socket: Duplex,
  parser: HeadParser<K>,
  done: HeadCallback<K extends 'request' ? RequestHead : ResponseHead>,
): () => void {
  const reader = new HeadReader(socket, parser, { onHead: done });
  return () => reader.stop();
}
