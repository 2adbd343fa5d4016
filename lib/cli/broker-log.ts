// `rfcws serve` with a broker: its subscriptions and failures in the connection log. A line per
// confirmed subscription tells an operator (and the CLI tests) from when on messages published
// on the other servers reach this one's clients.
import type { Broker } from '../pubsub/broker.js';

/** `broker`, logging each subscribe and unsubscribe once the broker has confirmed it. */
export function loggedBroker(broker: Broker, log: (line: string) => void): Broker {
  return {
    publish: (topic, bytes) => broker.publish(topic, bytes),
    subscribe: async (topic, onMessage) => {
      await broker.subscribe(topic, onMessage);
      log(`broker subscribed to topic "${topic}"`);
    },
    unsubscribe: async (topic) => {
      await broker.unsubscribe(topic);
      log(`broker unsubscribed from topic "${topic}"`);
    },
    close: () => broker.close(),
  };
}
