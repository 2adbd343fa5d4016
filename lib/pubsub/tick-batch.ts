// The publishes to one topic made in one tick, written to each subscriber together at the end of
// the tick: one pass over the subscribers per tick instead of one per publish, and one write of
// one shared buffer per subscriber (topics.ts decides who can take the batch whole).
import type { EncodedFrame } from '../protocol/connection.js';
import type { WebSocket } from '../websocket.js';
import { PendingFrame, ReadyFrame, type PreparedMessage } from './prepared.js';

/** One publish waiting for the end of the tick. */
export interface Pending {
  readonly msg: PreparedMessage;
  /** The publishing connection (it does not get its own message), or null. */
  readonly except: WebSocket | null;
}

/** Batched bytes above which the batch is written at once (so a publish loop holds at most this much). */
export const BATCH_BYTES = 64 * 1024;

/**
 * The bytes of several ready frames in publish order: joined once when they are small (one chunk
 * for the transport), else listed (large payloads are not copied).
 */
function concatFrames(frames: readonly EncodedFrame[]): { chunks: Buffer[]; bytes: number } {
  const parts = frames.flatMap((f) => f.chunks!);
  let bytes = 0;
  for (let i = 0; i < parts.length; i++) bytes += parts[i]!.length;
  return { chunks: bytes <= BATCH_BYTES ? [Buffer.concat(parts, bytes)] : parts, bytes };
}

/** Several frames of which some are still being compressed, as one frame ready once all of them are. */
function joinWhenReady(frames: EncodedFrame[], size: number): PendingFrame {
  const joined = new PendingFrame(size);
  let left = frames.length;
  const settleOne = (): void => {
    if (--left === 0) joined.settle(concatFrames(frames).chunks);
  };
  for (const f of frames) f.whenReady(settleOne);
  return joined;
}

/**
 * A batch frame and its length on the wire: exact when it is ready, else an upper bound (the
 * uncompressed frames' length; a failed compression falls back to those).
 */
export interface BatchFrame {
  readonly frame: EncodedFrame;
  readonly bytes: number;
}

/** The batch being gathered. */
export class TickBatch {
  topic = '';
  entries: Pending[] = [];
  /** Wire bytes of the uncompressed frames so far. */
  bytes = 0;

  add(topic: string, msg: PreparedMessage, except: WebSocket | null): void {
    this.topic = topic;
    this.entries.push({ msg, except });
    this.bytes += msg.plainBytes;
  }

  /** Take the batch out to write it; this one is empty again. */
  take(): TakenBatch {
    const taken = new TakenBatch(this.topic, this.entries);
    this.entries = [];
    this.bytes = 0;
    return taken;
  }
}

/** A batch being written (its own: a publish while it is written goes to the next one). */
export class TakenBatch {
  /** Batch frames per share key, built on first need. */
  private readonly joined = new Map<number, BatchFrame | null>();

  constructor(readonly topic: string, readonly entries: readonly Pending[]) {}

  /**
   * All the entries as one frame for subscribers with this share key: a single publish's own
   * frame, or the frames of several joined once (small) or listed in order (large). Null when a
   * frame is still being compressed: those subscribers take the messages one by one.
   */
  frameFor(share: number): BatchFrame | null {
    let f = this.joined.get(share);
    if (f === undefined) {
      f = join(this.entries, share);
      this.joined.set(share, f);
    }
    return f;
  }
}

function join(entries: readonly Pending[], share: number): BatchFrame | null {
  const frames = entries.map((e) => e.msg.frameFor(share));
  let size = 0;
  for (const e of entries) size += e.msg.size;
  if (frames.some((f) => f.chunks === null)) {
    // Compressions still running: one frame that is ready when all of them are. A single one is
    // left to the one-by-one path (its own frame, the same for every subscriber of this share).
    if (frames.length === 1) return null;
    let bound = 0;
    for (const e of entries) bound += e.msg.plainBytes;
    return { frame: joinWhenReady(frames, size), bytes: bound };
  }
  if (frames.length === 1) return { frame: frames[0]!, bytes: chunksLength(frames[0]!.chunks!) };
  const { chunks, bytes } = concatFrames(frames);
  return { frame: new ReadyFrame(chunks, size), bytes };
}

function chunksLength(chunks: Buffer[]): number {
  let n = 0;
  for (let i = 0; i < chunks.length; i++) n += chunks[i]!.length;
  return n;
}
