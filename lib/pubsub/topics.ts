// The topics of one server: who is subscribed to what, and the delivery of a published message
// to the local subscribers, framed once (prepared.ts), under a per-subscriber backpressure limit.
import { InvalidArgumentError } from '../errors.js';
import { PerMessageDeflate } from '../extensions/permessage-deflate.js';
import { toBuffer, WebSocket, type PublishOptions, type SendData, type TopicHost } from '../websocket.js';
import { PreparedMessage, SharedDeflate, UNCOMPRESSED } from './prepared.js';
import { ReadonlySetView } from './readonly-set.js';
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
}

const NO_TOPICS = new ReadonlySetView(new Set<string>());

export class Topics implements TopicHost {
  private readonly byTopic = new Map<string, Set<Sub>>();
  private readonly subs = new Map<WebSocket, Sub>();

  constructor(private readonly config: TopicsConfig, private readonly events: TopicEvents) {}

  subscribe(ws: WebSocket, topic: string): boolean {
    checkTopic(topic);
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
      sub = { ws, topics, view: new ReadonlySetView(topics), share: shareKey(ws) };
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

  /** Write one message to every local subscriber of `topic` but `except`; returns how many took it. */
  deliver(topic: string, payload: Buffer, binary: boolean, compress: boolean, except: WebSocket | null): number {
    const set = this.byTopic.get(topic);
    if (set === undefined) return 0;
    const { maxBackpressure, backpressurePolicy } = this.config;
    const msg = new PreparedMessage(payload, binary, compress ? this.config.deflate : null);
    let n = 0;
    for (const sub of set) {
      const ws = sub.ws;
      if (ws === except) continue;
      // Read once for both limits (backpressure here, the send queue in sendEncoded): three getters deep.
      const buffered = ws.bufferedAmount;
      if (buffered > maxBackpressure) {
        // A slow subscriber is skipped or closed; it never holds the others up.
        if (backpressurePolicy === 'close') ws.closeForLimit(1008, 'publish backpressure limit exceeded');
        else this.drop(ws, topic);
      } else if (ws.sendEncoded(msg.frameFor(sub.share), buffered)) {
        n++;
      } else if (ws.readyState === WebSocket.OPEN) {
        // Open but in the middle of a streamed message of its own: a frame cannot go in between.
        this.drop(ws, topic);
      }
    }
    return n;
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

/** Subscribers that negotiated server_no_context_takeover share compressed copies per window size. */
function shareKey(ws: WebSocket): number {
  const t = ws.messageTransform;
  if (t instanceof PerMessageDeflate && t.params.serverNoContextTakeover) return t.params.serverMaxWindowBits;
  return UNCOMPRESSED;
}

function checkTopic(topic: unknown): void {
  if (typeof topic !== 'string') throw new InvalidArgumentError(`a topic is a string (got ${typeof topic})`);
}
