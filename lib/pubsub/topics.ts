// The topics of one server: who is subscribed to what, and the delivery of a published message
// to the local subscribers, framed once (prepared.ts), with the other publishes of its tick
// (tick-batch.ts), under a per-subscriber backpressure limit.
import { InvalidArgumentError } from '../errors.js';
import { PerMessageDeflate } from '../extensions/permessage-deflate.js';
import { toBuffer, WebSocket, type PublishOptions, type SendData, type TopicHost } from '../websocket.js';
import { PreparedMessage, SharedDeflate, UNCOMPRESSED } from './prepared.js';
import { ReadonlySetView } from './readonly-set.js';
import { BATCH_BYTES, TickBatch, type BatchFrame, type Pending } from './tick-batch.js';
import type { BackpressurePolicy } from './options.js';

/** What the server wires to its topics (events, the broker). */
export interface TopicEvents {
  /** A subscriber missed a message under the 'drop' policy (or while streaming a message of its own). */
  onDrop(ws: WebSocket, topic: string): void;
  /** A message was published here (not one that came from the broker): hand it on. */
  onPublish(topic: string, payload: Buffer, binary: boolean, compress: boolean): void;
  /** `topic` got its first local subscriber. */
  onFirst(topic: string): void;
  /** `topic` lost its last local subscriber. */
  onLast(topic: string): void;
}

export interface TopicsConfig {
  maxBackpressure: number;
  backpressurePolicy: BackpressurePolicy;
  /** Shared compression of publishes, or null without permessage-deflate. */
  deflate: SharedDeflate | null;
}

/** One subscribed connection. */
interface Sub {
  readonly ws: WebSocket;
  readonly topics: Set<string>;
  readonly view: ReadonlySetView<string>;
  /** The server window size it shares compressed copies for, or UNCOMPRESSED. */
  readonly share: number;
  /** It published a message of the batch being written (so it takes the others one by one). */
  excluded: boolean;
}

const NO_TOPICS = new ReadonlySetView(new Set<string>());

export class Topics implements TopicHost {
  private readonly byTopic = new Map<string, Set<Sub>>();
  private readonly subs = new Map<WebSocket, Sub>();
  private readonly batch = new TickBatch();
  /** Publishes wait in the batch. */
  pending = false;
  /** @internal The end-of-tick flush is queued. */
  scheduled = false;

  constructor(private readonly config: TopicsConfig, private readonly events: TopicEvents) {}

  subscribe(ws: WebSocket, topic: string): boolean {
    checkTopic(topic);
    // What was published before this call is not for the new subscriber.
    this.flushPending();
    // A closed connection has already left everything: joining now would never be undone.
    if (ws.readyState === WebSocket.CLOSED) return false;
    const sub = this.record(ws);
    if (sub.topics.has(topic)) return false;
    sub.topics.add(topic);
    let set = this.byTopic.get(topic);
    if (set === undefined) {
      set = new Set();
      this.byTopic.set(topic, set);
      set.add(sub);
      this.events.onFirst(topic);
    } else {
      set.add(sub);
    }
    return true;
  }

  unsubscribe(ws: WebSocket, topic: string): boolean {
    checkTopic(topic);
    // What was published before this call still is.
    this.flushPending();
    const sub = this.subs.get(ws);
    if (sub === undefined || !sub.topics.delete(topic)) return false;
    this.leave(sub, topic);
    return true;
  }

  leaveAll(ws: WebSocket): void {
    const sub = this.subs.get(ws);
    if (sub === undefined) return;
    this.subs.delete(ws);
    for (const topic of sub.topics) this.leave(sub, topic);
    sub.topics.clear();
  }

  topicsOf(ws: WebSocket): ReadonlySet<string> {
    if (ws.readyState === WebSocket.CLOSED) return this.subs.get(ws)?.view ?? NO_TOPICS;
    return this.record(ws).view;
  }

  /** The connection's record, made on first need and kept until it closes (so its view stays live). */
  private record(ws: WebSocket): Sub {
    let sub = this.subs.get(ws);
    if (sub === undefined) {
      const topics = new Set<string>();
      sub = { ws, topics, view: new ReadonlySetView(topics), share: shareKey(ws), excluded: false };
      this.subs.set(ws, sub);
    }
    return sub;
  }

  /** Local subscribers of `topic`. */
  count(topic: string): number {
    return this.byTopic.get(topic)?.size ?? 0;
  }

  /** Topics with at least one local subscriber. */
  get size(): number {
    return this.byTopic.size;
  }

  publish(topic: string, data: SendData, options: PublishOptions | undefined, except: WebSocket | null): number {
    checkTopic(topic);
    let payload: Buffer;
    let binary: boolean;
    if (typeof data === 'string') {
      payload = Buffer.from(data, 'utf8');
      binary = options?.binary ?? false;
    } else {
      payload = toBuffer(data);
      binary = options?.binary ?? true;
    }
    const compress = options?.compress !== false;
    const n = this.deliver(topic, payload, binary, compress, except);
    this.events.onPublish(topic, payload, binary, compress);
    return n;
  }

  /**
   * Send one message to every local subscriber of `topic` but `except`; returns how many it is
   * addressed to. The message joins this tick's batch and is written at the end of the tick (or
   * sooner: see `flushPending`), with the other publishes of the tick, one write per subscriber.
   */
  deliver(topic: string, payload: Buffer, binary: boolean, compress: boolean, except: WebSocket | null): number {
    const set = this.byTopic.get(topic);
    if (set === undefined) return 0;
    const batch = this.batch;
    // One topic per batch: a subscriber of two topics gets their messages in publish order.
    if (this.pending && batch.topic !== topic) this.flushPending();
    batch.add(topic, new PreparedMessage(payload, binary, compress ? this.config.deflate : null), except);
    if (!this.pending) {
      this.pending = true;
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(endOfTick, this);
      }
    }
    if (batch.bytes >= BATCH_BYTES) this.flushPending();
    const sender = except === null ? undefined : this.subs.get(except);
    return sender !== undefined && set.has(sender) ? set.size - 1 : set.size;
  }

  /**
   * Write the batch now. Runs at the end of the tick, and before anything that must see the
   * batch as written: a send, ping, pong or close on one of this server's connections (so its
   * own frames keep their order with the publishes), a read of `bufferedAmount` or
   * `droppedMessages`, a subscribe or unsubscribe, a publish to another topic, and a batch
   * passing BATCH_BYTES.
   */
  flushPending(): void {
    if (!this.pending) return;
    this.pending = false;
    const batch = this.batch.take();
    const { topic, entries } = batch;
    const set = this.byTopic.get(topic);
    if (set === undefined) return;
    // Publishers do not get their own messages: they take the batch one message at a time.
    this.markSenders(entries, true);
    const dropped: WebSocket[] = [];
    const limit = this.config.maxBackpressure;
    // Nearly every subscriber has the share key of the one before: the lookup is made per key change.
    let lastShare = -1;
    let lastJoined: BatchFrame | null = null;
    for (const sub of set) {
      if (!sub.excluded && sub.share !== lastShare) {
        lastShare = sub.share;
        lastJoined = batch.frameFor(lastShare);
      }
      const joined = sub.excluded ? null : lastJoined;
      if (joined === null) {
        this.deliverEach(sub, entries, dropped);
        continue;
      }
      const ws = sub.ws;
      // Read once for every limit (three getters deep). Within both limits with the whole batch,
      // no message of it could be dropped one by one either: it goes in one write.
      const buffered = ws.bufferedAmount;
      if (buffered + joined.bytes > limit || buffered + joined.bytes > ws.sendQueueLimit) {
        this.deliverEach(sub, entries, dropped);
      } else if (!ws.sendEncoded(joined.frame, buffered) && ws.readyState === WebSocket.OPEN) {
        // Open but in the middle of a streamed message of its own: a frame cannot go in between.
        for (let i = 0; i < entries.length; i++) dropped.push(ws);
      }
    }
    this.markSenders(entries, false);
    // Listeners run once every subscriber has its messages: what they send comes after.
    for (let i = 0; i < dropped.length; i++) this.drop(dropped[i]!, topic);
  }

  private markSenders(entries: readonly Pending[], excluded: boolean): void {
    for (let i = 0; i < entries.length; i++) {
      const except = entries[i]!.except;
      const sub = except === null ? undefined : this.subs.get(except);
      if (sub !== undefined) sub.excluded = excluded;
    }
  }

  /** The batch one message at a time, each under the backpressure limit (and not its own). */
  private deliverEach(sub: Sub, entries: readonly Pending[], dropped: WebSocket[]): void {
    const ws = sub.ws;
    const { maxBackpressure, backpressurePolicy } = this.config;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.except === ws) continue;
      const buffered = ws.bufferedAmount;
      if (buffered > maxBackpressure) {
        // A slow subscriber is skipped or closed; it never holds the others up.
        if (backpressurePolicy === 'close') ws.closeForLimit(1008, 'publish backpressure limit exceeded');
        else dropped.push(ws);
      } else if (!ws.sendEncoded(entry.msg.frameFor(sub.share), buffered) && ws.readyState === WebSocket.OPEN) {
        dropped.push(ws);
      }
    }
  }

  private drop(ws: WebSocket, topic: string): void {
    ws.noteDropped();
    this.events.onDrop(ws, topic);
  }

  private leave(sub: Sub, topic: string): void {
    const set = this.byTopic.get(topic);
    if (set === undefined || !set.delete(sub)) return;
    if (set.size === 0) {
      this.byTopic.delete(topic);
      this.events.onLast(topic);
    }
  }
}

function endOfTick(topics: Topics): void {
  topics.scheduled = false;
  topics.flushPending();
}

/** Subscribers that negotiated server_no_context_takeover share compressed copies per window size. */
function shareKey(ws: WebSocket): number {
  const t = ws.messageTransform;
  if (t instanceof PerMessageDeflate && t.params.serverNoContextTakeover) return t.params.serverMaxWindowBits;
  return UNCOMPRESSED;
}

function checkTopic(topic: unknown): void {
  if (typeof topic !== 'string') throw new InvalidArgumentError(`a topic is a string (got ${typeof topic})`);
}
