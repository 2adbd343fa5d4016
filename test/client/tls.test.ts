// Issue 2, client TLS options: SNI (as sent, as seen by the server), CA, a client
// certificate, rejectUnauthorized.
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import * as https from 'node:https';
import type * as net from 'node:net';
import type * as tls from 'node:tls';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import type { HandshakeError } from '../../lib/errors.js';
import { WebSocketServer } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { selfSignedCert } from '../helpers/tls.js';
import { failure as failureOf } from '../helpers/failure.js';
const failure = (p: Promise<unknown>): Promise<HandshakeError> => failureOf<HandshakeError>(p);

const serverPair = selfSignedCert();
const clientPair = selfSignedCert();


interface Seen {
  servername: string | false | undefined;
  authorized: boolean;
  peerFingerprint: string | undefined;
}

/** An https server that asks for (but does not require) a client certificate and records what each upgrade's TLS socket saw. */
async function httpsWithClientAuth(t: Test): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = https.createServer({ ...serverPair!, requestCert: true, rejectUnauthorized: false, ca: clientPair!.cert });
  const wss = new WebSocketServer({ keepAliveInterval: 0 });
  wss.on('connection', (ws: WebSocket) => ws.on('message', (d) => ws.send(d)));
  server.on('upgrade', (req, socket, head) => {
    const s = req.socket as tls.TLSSocket;
    const cert = s.getPeerCertificate();
    seen.push({ servername: (s as tls.TLSSocket & { servername?: string | false }).servername, authorized: s.authorized, peerFingerprint: cert?.fingerprint256 });
    wss.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    await wss.close(100);
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, seen };
}

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

if (serverPair === null || clientPair === null) {
  t.comment('openssl not available: TLS tests skipped');
} else {
  const clientFingerprint = new X509Certificate(clientPair.cert).fingerprint256;

  t.test('a client certificate is presented and verified by the server', async (t) => {
    const { port, seen } = await httpsWithClientAuth(t);
    const ws = await connect(`wss://localhost:${port}/`, {
      tls: { ca: serverPair.cert, cert: clientPair.cert, key: clientPair.key },
      keepAliveInterval: 0,
    });
    ws.send('with cert');
    t.equal(String((await once(ws, 'message'))[0]), 'with cert');
    ws.terminate();
    t.equal(seen[0]!.peerFingerprint, clientFingerprint, 'the server saw our client certificate');
    t.equal(seen[0]!.authorized, true, 'and it verified against the server CA list');

    const anonymous = await connect(`wss://localhost:${port}/`, { tls: { ca: serverPair.cert }, keepAliveInterval: 0 });
    anonymous.terminate();
    t.equal(seen[1]!.peerFingerprint, undefined, 'without the option no certificate is sent');
    t.equal(seen[1]!.authorized, false);
  });

  t.test('a server that requires a client certificate refuses a client without one', async (t) => {
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      keepAliveInterval: 0,
      tls: { ...serverPair, requestCert: true, rejectUnauthorized: true, ca: clientPair.cert },
    });
    const { port } = await wss.listen();
    t.teardown(() => wss.close(100));
    wss.on('connection', (ws: WebSocket) => ws.on('message', (d) => ws.send(d)));
    const refused = await failure(connect(`wss://localhost:${port}/`, { tls: { ca: serverPair.cert }, keepAliveInterval: 0, handshakeTimeout: 5000 }));
    t.equal(refused.code, 'ERR_WS_CONNECT', `no certificate: ${refused.message}`);
    const ws = await connect(`wss://localhost:${port}/`, {
      tls: { ca: serverPair.cert, cert: clientPair.cert, key: clientPair.key },
      keepAliveInterval: 0,
    });
    ws.send('ok');
    t.equal(String((await once(ws, 'message'))[0]), 'ok', 'with the certificate the connection works');
    ws.terminate();
  });

  t.test('SNI: the URL host name is sent, never an IP; tls.servername overrides it', async (t) => {
    const { port, seen } = await httpsWithClientAuth(t);
    (await connect(`wss://localhost:${port}/`, { tls: { ca: serverPair.cert }, keepAliveInterval: 0 })).terminate();
    (await connect(`wss://127.0.0.1:${port}/`, { tls: { ca: serverPair.cert }, keepAliveInterval: 0 })).terminate();
    (await connect(`wss://127.0.0.1:${port}/`, { tls: { ca: serverPair.cert, servername: 'localhost' }, keepAliveInterval: 0 })).terminate();
    t.same(seen.map((s) => s.servername || null), ['localhost', null, 'localhost']);
  });

  t.test('rejectUnauthorized: the wrong CA fails by default, false accepts it', async (t) => {
    const { port } = await httpsWithClientAuth(t);
    const wrongCa = await failure(connect(`wss://localhost:${port}/`, { tls: { ca: clientPair.cert }, keepAliveInterval: 0 }));
    t.equal(wrongCa.code, 'ERR_WS_CONNECT');
    t.match(String((wrongCa.cause as Error | undefined)?.message), /certificate/i);
    const insecure = await connect(`wss://localhost:${port}/`, { tls: { ca: clientPair.cert, rejectUnauthorized: false }, keepAliveInterval: 0 });
    insecure.terminate();
    t.pass('rejectUnauthorized: false connects');
  });
}
