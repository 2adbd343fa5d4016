// Headless Chromium's WebSocket over HTTP/2. Chromium uses RFC 8441 only for a wss:// URL whose
// origin already has an HTTP/2 session open, so the page itself is served over HTTP/2 from the
// same port: an application's http2 server (allowHTTP1) serves GET /, our server is attached to
// it for /ws. That it ran over HTTP/2 is proven twice: req.httpVersion on our side, and
// Chromium's own net log (--log-net-log), read after the browser exited.
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { WebSocketServer } from '../../lib/server/server.js';
import type { UpgradeRequest } from '../../lib/handshake/request.js';
import { Browser, findChromium, NO_CHROMIUM } from '../helpers/chromium.js';
import { NO_OPENSSL, certificate, closeOf } from './helpers.js';

const chromium = findChromium();
const cert = certificate();

const PAGE = `<!doctype html>
<title>loading</title>
<script>
  const ws = new WebSocket('wss://' + location.host + '/ws');
  ws.onopen = () => ws.send('hello from chromium');
  ws.onmessage = (e) => {
    window.echo = e.data;
    ws.close(4000, 'page done');
  };
  ws.onclose = (e) => {
    window.wsClosed = { code: e.code, reason: e.reason, wasClean: e.wasClean };
    document.title = 'closed';
  };
</script>`;

/** base64(SHA-256(SubjectPublicKeyInfo)): what --ignore-certificate-errors-spki-list trusts. */
function spkiHash(pem: Buffer): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

interface NetLogEvent {
  type: number;
  source: { id: number; type: number };
  params?: Record<string, unknown>;
}

t.test('Chromium opens a WebSocket over the HTTP/2 session of its page (RFC 8441)', { skip: chromium === undefined ? NO_CHROMIUM : cert === null ? NO_OPENSSL : false }, async (t) => {
  const pageVersions: string[] = [];
  const app = http2.createSecureServer({ key: cert!.key, cert: cert!.cert, allowHTTP1: true }, (req, res) => {
    pageVersions.push(req.httpVersion);
    if (req.url !== '/') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  const wss = new WebSocketServer({ server: app, path: '/ws', keepAliveInterval: 0 });
  const accepted: UpgradeRequest[] = [];
  let serverClose: Promise<{ code: number; reason: string; wasClean: boolean }> | undefined;
  wss.on('connection', (ws, req) => {
    accepted.push(req);
    serverClose = closeOf(ws);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const port = (app.address() as { port: number }).port;
  t.teardown(async () => {
    await wss.close(500);
    app.close();
  });

  const logDir = mkdtempSync(join(tmpdir(), 'rfcws-netlog-'));
  t.teardown(() => rmSync(logDir, { recursive: true, force: true }));
  const netLog = join(logDir, 'netlog.json');
  const browser = await Browser.launch(chromium!, [
    `--ignore-certificate-errors-spki-list=${spkiHash(cert!.cert)}`,
    `--log-net-log=${netLog}`,
    '--net-log-capture-mode=Default',
  ]);
  t.teardown(() => browser.close());

  const page = await browser.newPage(`https://127.0.0.1:${port}/`);
  // Our server echoes the close code without the reason (RFC 6455 §5.5.1 allows either).
  t.same(await page.waitFor('window.wsClosed'), { code: 4000, reason: '', wasClean: true }, 'the page: a clean close, its code echoed');
  t.equal(await page.evaluate('window.echo'), 'hello from chromium', 'the page received the echo');
  await browser.close(); // the net log is complete once Chromium has exited

  t.ok(pageVersions.length >= 1 && pageVersions.every((v) => v === '2.0'), 'the page (and its favicon request) came over HTTP/2');
  t.equal(accepted.length, 1);
  t.equal(accepted[0]!.httpVersion, '2.0', "server side: req.httpVersion '2.0', an extended CONNECT");
  t.equal(accepted[0]!.method, 'CONNECT');
  t.same(await serverClose, { code: 4000, reason: 'page done', wasClean: true }, 'server side: the page’s code and reason, clean');

  // The net log: its constants name the numeric event and source types the events carry.
  const log = JSON.parse(readFileSync(netLog, 'utf8')) as { constants: { logEventTypes: Record<string, number>; logSourceType: Record<string, number> }; events: NetLogEvent[] };
  const EV = log.constants.logEventTypes;
  const SRC = log.constants.logSourceType;
  for (const name of ['HTTP2_SESSION_RECV_SETTING', 'HTTP2_SESSION_SEND_HEADERS', 'HTTP2_SESSION_RECV_HEADERS', 'WEBSOCKET_SENT_FRAME_HEADER', 'WEBSOCKET_RECV_FRAME_HEADER']) {
    t.type(EV[name], 'number', `this Chromium logs ${name}`);
  }
  const events = (type: string, source?: number): NetLogEvent[] => log.events.filter((e) => e.type === EV[type] && (source === undefined || e.source.id === source));
  const headers = (e: NetLogEvent): string[] => (e.params?.['headers'] as string[] | undefined) ?? [];

  // The HTTP/2 session that carried the CONNECT: the session's own HEADERS event names the stream and the request.
  const connects = events('HTTP2_SESSION_SEND_HEADERS').filter((e) => {
    const h = headers(e);
    return h.includes(':method: CONNECT') && h.includes(':protocol: websocket') && h.includes(':path: /ws');
  });
  t.equal(connects.length, 1, 'one extended CONNECT (:method CONNECT, :protocol websocket, :path /ws) sent on an HTTP/2 session');
  const connect = connects[0]!;
  const session = connect.source.id;
  t.equal(connect.source.type, SRC['HTTP2_SESSION'], 'logged by an HTTP2_SESSION source');
  const streamId = connect.params!['stream_id'] as number;
  const request = (connect.params!['source_dependency'] as { id: number }).id;
  t.ok(
    events('HTTP2_SESSION_RECV_SETTING', session).some((e) => String(e.params!['id']).startsWith('8 ') && e.params!['value'] === 1),
    'that session received SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8) = 1',
  );
  t.ok(
    events('HTTP2_SESSION_RECV_HEADERS', session).some((e) => e.params!['stream_id'] === streamId && headers(e).includes(':status: 200')),
    `...and :status 200 on the CONNECT's stream ${streamId}`,
  );
  t.ok(
    events('HTTP2_SESSION_SEND_HEADERS', session).some((e) => headers(e).includes(':method: GET') && headers(e).includes(':path: /')),
    "...the same session that fetched the page (Chromium's condition for RFC 8441)",
  );
  // The request the CONNECT belongs to carried the WebSocket frames.
  const sent = events('WEBSOCKET_SENT_FRAME_HEADER', request).map((e) => [e.params!['opcode'], e.params!['masked']]);
  const received = events('WEBSOCKET_RECV_FRAME_HEADER', request).map((e) => [e.params!['opcode'], e.params!['masked']]);
  t.same(sent, [[1, true], [8, true]], 'on that stream Chromium sent a masked text frame, then a masked close');
  t.same(received, [[1, false], [8, false]], '...and received the unmasked echo, then our close');
});
