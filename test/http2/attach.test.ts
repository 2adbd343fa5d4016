// One port for HTTP/1.1 upgrades and RFC 8441, standalone and attached to an application's http2 server.
import { once } from 'node:events';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { WebSocketServer } from '../../lib/server/server.js';
import { NO_OPENSSL, certificate, closeOf, echoServer, exchangeStream, connectHeaders, nextMessage, rawSession, trust } from './helpers.js';

const skip = certificate() === null ? NO_OPENSSL : false;

for (const secure of [false, true]) {
  t.test(`standalone ${secure ? 'wss (ALPN)' : 'ws (h2c preface)'}: HTTP/1.1 and HTTP/2 WebSockets on one port`, { skip: secure && skip }, async (t) => {
    const { server, url } = await echoServer(t, {}, secure);
    const seen: string[] = [];
    server.on('connection', (_ws, req) => seen.push(req.httpVersion));
    const tlsOpts = secure ? trust() : undefined;
    const h1 = await connect(url, { http: '1.1', keepAliveInterval: 0, tls: tlsOpts });
    const h2 = await connect(url, { http: '2', keepAliveInterval: 0, tls: tlsOpts });
    t.same([h1.httpVersion, h2.httpVersion], ['1.1', '2']);
    t.same(seen, ['1.1', '2.0'], "the server's req.httpVersion tells them apart");
    for (const ws of [h1, h2]) {
      ws.send(`via ${ws.httpVersion}`);
      t.equal((await nextMessage(ws)).toString(), `via ${ws.httpVersion}`);
      ws.close();
      await closeOf(ws);
    }
  });
}

t.test("attached to an application's http2 server (TLS, allowHTTP1): its GETs still work, both WebSocket kinds too", { skip }, async (t) => {
  const c = certificate()!;
  const app = http2.createSecureServer({ key: c.key, cert: c.cert, allowHTTP1: true }, (req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.httpVersion} ${req.url}`);
  });
  const wss = new WebSocketServer({ server: app, path: '/ws', keepAliveInterval: 0 });
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const port = (app.address() as { port: number }).port;
  t.teardown(() => { void wss.close(200); app.close(); });

  const session = http2.connect(`https://127.0.0.1:${port}`, { ca: c.cert });
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  const get = await exchangeStream(session, { ':path': '/page' });
  t.equal(get.status, 200);
  t.equal(get.body, 'hello 2.0 /page', 'an ordinary HTTP/2 GET is the application’s');
  t.equal(session.remoteSettings.enableConnectProtocol, true, 'attaching enabled SETTINGS_ENABLE_CONNECT_PROTOCOL');
  const tunnel = await exchangeStream(session, { ':method': 'CONNECT', ':authority': 'example.com:443' });
  t.equal(tunnel.status, 405, 'a plain CONNECT still gets node’s 405 when the application has no connect listener');

  const h1get = await new Promise<string>((resolve, reject) => {
    const options: https.RequestOptions & { ALPNProtocols: string[] } = { host: '127.0.0.1', port, path: '/h1', ca: c.cert, ALPNProtocols: ['http/1.1'] };
    https.get(options, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  t.equal(h1get, 'hello 1.1 /h1', 'an ordinary HTTP/1.1 GET too');

  const url = `wss://127.0.0.1:${port}/ws`;
  const h2 = await connect(url, { http: '2', keepAliveInterval: 0, tls: trust() });
  const h1 = await connect(url, { http: '1.1', keepAliveInterval: 0, tls: trust() });
  t.same([h2.httpVersion, h1.httpVersion], ['2', '1.1']);
  for (const ws of [h1, h2]) {
    ws.send('ping');
    t.equal((await nextMessage(ws)).toString(), 'ping');
  }
  const wrong = await exchangeStream(session, connectHeaders({ ':scheme': 'https', ':path': '/elsewhere' }));
  t.equal(wrong.status, 404, 'an extended CONNECT for a path not served: 404, as for HTTP/1.1');
  h1.close();
  h2.close();
  await Promise.all([once(h1, 'close'), once(h2, 'close')]);
});

t.test('handleStream from the application’s own stream listener (h2c)', async (t) => {
  const app = http2.createServer({ settings: { enableConnectProtocol: true } });
  const wss = new WebSocketServer({ keepAliveInterval: 0 });
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
  app.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => {
    if (headers[':method'] === 'CONNECT') return wss.handleStream(stream, headers, raw);
    stream.respond({ ':status': 200 });
    stream.end('page');
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const port = (app.address() as { port: number }).port;
  t.teardown(() => { void wss.close(200); app.close(); });
  const session = await rawSession(t, port);
  t.equal((await exchangeStream(session, { ':path': '/' })).body, 'page');
  const ws = await connect(`ws://127.0.0.1:${port}/`, { http: '2', keepAliveInterval: 0 });
  ws.send('x');
  t.equal((await nextMessage(ws)).toString(), 'x');
  ws.close();
  await closeOf(ws);
});
