// Topics, the backpressure policy, shared compression and the broker of one server, put
// together; server.ts holds one of these and forwards `publish` and `subscribers` to it.
import type { ValidDeflateOptions } from '../extensions/permessage-deflate.js';
import type { PublishOptions, SendData, WebSocket } from '../websocket.js';
import { BrokerLink, type BrokerStats } from './broker-link.js';
import type { BrokerError } from './broker-error.js';
import { resolvePubSubOptions, type PubSubOptions } from './options.js';
import { SharedDeflate } from './prepared.js';
import { Topics } from './topics.js';

/** How the server hears of drops and broker failures. */
export interface PubSubSignals {
  drop(ws: WebSocket, topic: string): void;
  brokerError(err: BrokerError): void;
}

export class ServerPubSub {
  readonly topics: Topics;
  private readonly link: BrokerLink | null;
  private readonly deflate: SharedDeflate | null;

  constructor(options: PubSubOptions, deflate: ValidDeflateOptions | null, signals: PubSubSignals) {
    const resolved = resolvePubSubOptions(options);
    this.deflate = deflate === null ? null : new SharedDeflate(deflate);
    const broker = options.broker;
    const link = broker === undefined
      ? null
      : new BrokerLink(broker, (topic, payload, binary, compress) => this.topics.deliver(topic, payload, binary, compress, null), (err) => signals.brokerError(err));
    this.link = link;
    this.topics = new Topics({ ...resolved, deflate: this.deflate }, {
      onDrop: (ws, topic) => signals.drop(ws, topic),
      onPublish: link === null ? noop : (topic, payload, binary, compress) => link.publish(topic, payload, binary, compress),
      onFirst: link === null ? noop : (topic) => link.open(topic),
      onLast: link === null ? noop : (topic) => link.close(topic),
    });
  }

  publish(topic: string, data: SendData, options?: PublishOptions): number {
    return this.topics.publish(topic, data, options, null);
  }

  /** A snapshot of the broker counters, or null without a broker. */
  get brokerStats(): Readonly<BrokerStats> | null {
    return this.link === null ? null : Object.freeze({ ...this.link.stats });
  }

  /** @internal The link itself (tests feed it broker messages). */
  get brokerLink(): BrokerLink | null {
    return this.link;
  }

  /** Shared compressions run so far (each served every no-context-takeover subscriber of one window size). */
  get sharedCompressions(): number {
    return this.deflate?.compressions ?? 0;
  }

  dispose(): void {
    this.deflate?.dispose();
  }
}

function noop(): void {}
