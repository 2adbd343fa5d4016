// What a WebSocket tells of the TLS under it, over a TLS socket and over an HTTP/2 session.
import t from 'tap';
import { once } from 'node:events';
import { WebSocketServer, connect, type WebSocket } from '../../lib/index.js';
import { selfSignedCert } from '../helpers/tls.js';

const pair = selfSignedCert();

t.test('TLS details over a socket and over an HTTP/2 stream; null on cleartext', { skip: pair === null ? 'openssl is not available to make a test certificate' : false }, async (t) => {
  const server = new WebSocketServer({ host: '127.0.0.1', http2: true, tls: { key: pair!.key, cert: pair!.cert }, keepAliveInterval: 0 });
  const { port } = await server.listen();
  t.teardown(() => server.close(200));
  for (const http of ['1.1', '2'] as const) {
    const accepted = once(server, 'connection') as Promise<[WebSocket]>;
    const client = await connect(`wss://localhost:${port}/`, { http, tls: { ca: pair!.cert }, keepAliveInterval: 0 });
    const [ws] = await accepted;
    t.equal(ws.httpVersion, http);
    t.match(ws.tls?.protocol, /^TLSv1\.[23]$/, `${http}: server side protocol`);
    t.equal(ws.tls?.alpnProtocol, http === '2' ? 'h2' : false, `${http}: ALPN (an HTTP/1.1 client offers none)`);
    t.equal(client.tls?.authorized, true, `${http}: the client verified the certificate`);
    t.equal(client.tls?.authorizationError, undefined);
    t.type(client.tls?.peerCertificate(), 'object');
    client.close(1000);
    await once(ws, 'close');
  }
  const plain = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0 });
  const accepted = once(plain, 'connection') as Promise<[WebSocket]>;
  const addr = await plain.listen();
  t.teardown(() => plain.close(200));
  const c = await connect(`ws://127.0.0.1:${addr.port}/`, { keepAliveInterval: 0 });
  const [s] = await accepted;
  t.equal(s.tls, null);
  t.equal(c.tls, null);
  c.close(1000);
  await once(s, 'close');
});
