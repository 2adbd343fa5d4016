// ReconnectingWebSocket with the client's networking options, each attempt checked on the
// server: through the real tinyproxy (Debian package tinyproxy) after the server drops the
// connection, a `headers` function called once per attempt (each request carries that
// attempt's fresh token), and the cookie jar sending on every attempt what the previous
// 101 set.
import { once } from 'node:events';
import t from 'tap';
import { CookieJar } from '../../lib/http/cookie-jar.js';
import { ReconnectingWebSocket } from '../../lib/reconnect/reconnecting-websocket.js';
import { WebSocketServer } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { startTinyproxy, tinyproxyMissing } from '../helpers/tinyproxy.js';

const missing = tinyproxyMissing();

if (missing) {
  t.comment(missing);
  t.pass('skipped: tinyproxy is not installed');
} else {
  t.test('through tinyproxy: reconnects after drops, a fresh token and the jar\'s cookies on every attempt', async (t) => {
    const seen: Array<{ authorization?: string; cookie?: string }> = [];
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      keepAliveInterval: 0,
      authorize: (req) => {
        seen.push({ authorization: req.headers.authorization, cookie: req.headers.cookie });
        return { accept: true, headers: { 'set-cookie': `visit=${seen.length}; Path=/` } };
      },
    });
    const { port } = await wss.listen();
    t.teardown(() => wss.close(100));
    const connections: WebSocket[] = [];
    wss.on('connection', (ws) => {
      connections.push(ws);
      ws.on('message', (d) => ws.send(`echo ${d}`));
    });
    const proxy = await startTinyproxy(t, [port]);
    let calls = 0;
    const urls: string[] = [];
    const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}/feed`, {
      keepAliveInterval: 0,
      proxy: proxy.url,
      firstDelay: 1,
      baseDelay: 1,
      cookies: new CookieJar(),
      headers: async (url) => {
        urls.push(url.href);
        return { Authorization: `Bearer t${++calls}` };
      },
    });
    t.teardown(() => rws.close());
    for (let i = 1; i <= 3; i++) {
      const [{ ws }] = await once(rws, 'open');
      t.equal(ws.remotePort, proxy.port, `connection ${i} runs through the proxy`);
      rws.send(`m${i}`);
      const [data] = await once(rws, 'message');
      t.equal(data.toString(), `echo m${i}`);
      if (i < 3) {
        const reconnecting = once(rws, 'reconnecting');
        connections.at(-1)!.terminate();
        t.equal((await reconnecting)[0].code, 1006, 'the server dropped the connection');
      }
    }
    t.same(seen, [
      { authorization: 'Bearer t1', cookie: undefined },
      { authorization: 'Bearer t2', cookie: 'visit=1' },
      { authorization: 'Bearer t3', cookie: 'visit=2' },
    ], 'each attempt: its own token, and the cookie the previous 101 set');
    t.equal(calls, 3, 'the headers function ran once per attempt');
    t.same(urls, Array(3).fill(`ws://127.0.0.1:${port}/feed`));
  });
}
