/**
 * Streamed send: the chunks of a Readable or (async) iterable sent as the
 * fragments of one message, each waiting for the connection to drain below
 * its send mark, so a source of any size is sent with bounded memory.
 */
import { InvalidArgumentError } from './errors.js';

/** What `sendStream()` reads: a Readable, or any (async) iterable of Buffers, typed arrays or strings. */
export type StreamSource = AsyncIterable<unknown> | Iterable<unknown>;

/** Options of `sendStream()`. */
export interface SendStreamOptions {
  /** Binary (default) or text message. A text source's bytes must form valid UTF-8 as a whole. */
  binary?: boolean;
  /** Compress when permessage-deflate is negotiated (default true): one DEFLATE stream for the whole message. */
  compress?: boolean;
}

/** The connection as the pump sees it. */
export interface FragmentSink {
  /** Send one fragment; resolves once the connection can take more (below its send mark), rejects when it cannot send. */
  fragment(data: Buffer, fin: boolean): Promise<void>;
}

const EMPTY = Buffer.alloc(0);

/**
 * Send every chunk of `source` as it arrives (empty chunks are skipped), then
 * an empty final frame: the end of a source is known only after its last
 * chunk, and holding each chunk back until the next one arrives would delay a
 * live source by one chunk. Throws what the source or the sink throws.
 */
export async function pumpMessage(source: StreamSource, sink: FragmentSink): Promise<void> {
  for await (const chunk of source) {
    const buf = toChunk(chunk);
    if (buf.length > 0) await sink.fragment(buf, false);
  }
  await sink.fragment(EMPTY, true);
}

function toChunk(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk);
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new InvalidArgumentError(`sendStream() sources yield Buffers, typed arrays or strings (got ${typeof chunk})`);
}

/** Whether `x` can be a sendStream() source. */
export function isStreamSource(x: unknown): x is StreamSource {
  return x !== null && typeof x === 'object' &&
    (typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function');
}
