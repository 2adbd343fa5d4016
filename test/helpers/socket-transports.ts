// Connected pairs over real loopback sockets: a SocketTransport on the accepting side, the
// peer's received bytes collected (test/transport).
import net from 'node:net';
import { once } from 'node:events';
import type t from 'tap';
import { SocketTransport } from '../../lib/transport/socket.js';
import { UNBOUND } from '../../lib/transport/transport.js';

export type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/** `n` connected pairs: our transports on the accepting side, the peers' received bytes collected. */
export async function pairs(tt: Test, n: number) {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const out: Array<{ transport: SocketTransport; peer: net.Socket; got: () => Buffer; ended: Promise<unknown> }> = [];
  for (let i = 0; i < n; i++) {
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    const peer = net.connect(port, '127.0.0.1');
    const [sock] = await accepted;
    const transport = new SocketTransport(sock);
    transport.bind(UNBOUND);
    const chunks: Buffer[] = [];
    peer.on('data', (c: Buffer) => chunks.push(c));
    out.push({ transport, peer, got: () => Buffer.concat(chunks), ended: once(peer, 'end') });
  }
  tt.teardown(() => {
    for (const p of out) { p.peer.destroy(); p.transport.destroy(); }
    server.close();
  });
  return out;
}


export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

