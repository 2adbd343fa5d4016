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
 * Send the chunks of `source` as the fragments of one message (empty chunks
 * are skipped), each one as soon as the next arrives or the source ends, so
 * the last chunk goes out with FIN and no empty final frame is needed; only an
 * empty source is sent as one empty FIN frame. Holding one chunk back costs a
 * live source one chunk of delay and the pump one chunk of memory beyond the
 * send mark; sources must therefore yield a fresh buffer each time (Readables
 * do), not refill the one they yielded before. Throws what the source or the
 * sink throws; a chunk held when the source fails is dropped with the message.
 */
export async function pumpMessage(source: StreamSource, sink: FragmentSink): Promise<void> {
  let held: Buffer | null = null;
  for await (const chunk of source) {
    const buf = toChunk(chunk);
    if (buf.length === 0) continue;
    if (held !== null) await sink.fragment(held, false);
    held = buf;
  }
  await sink.fragment(held ?? EMPTY, true);
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
