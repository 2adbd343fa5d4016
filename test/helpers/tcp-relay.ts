/**
 * A TCP relay on 127.0.0.1 in front of a server: `cut()` destroys every
 * connection through it at once (both sockets, bytes in flight lost), the way
 * a network drop looks to both ends; new connections go through as before.
 */
import { once } from 'node:events';
import * as net from 'node:net';

type Test = { teardown(fn: () => unknown): void };

export interface Relay {
  port: number;
  url: string;
  /** Connections relayed so far. */
  connections: number;
  /** Destroy every relayed connection; returns how many there were. */
  cut(): number;
}

export async function tcpRelay(t: Test, targetPort: number): Promise<Relay> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const relay: Relay = {
    port: 0,
    url: '',
    connections: 0,
    cut() {
      const n = pairs.size;
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
      return n;
    },
  };
  const server = net.createServer((inbound) => {
    relay.connections++;
    const outbound = net.connect(targetPort, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [inbound, outbound];
    pairs.add(pair);
    const drop = (): void => {
      inbound.destroy();
      outbound.destroy();
      pairs.delete(pair);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  relay.port = (server.address() as net.AddressInfo).port;
  relay.url = `ws://127.0.0.1:${relay.port}/`;
  t.teardown(() => {
    relay.cut();
    server.close();
  });
  return relay;
}
