// undici's WebSocket (npm `undici` 7, an Agent with allowH2) against our server over TLS h2:
// RFC 8441 from a second, independent HTTP/2 stack (node:http2 under undici's own client),
// verifying our certificate against a CA made here.
import t from 'tap';
import * as undici from 'undici';
import { WebSocketServer } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import type { UpgradeRequest } from '../../lib/handshake/request.js';
import { NO_OPENSSL, type Test, caCertificate, closeOf } from './helpers.js';

const chain = caCertificate();

interface Accepted {
  ws: WebSocket;
  req: UpgradeRequest;
}

async function server(t: Test, deflate: boolean): Promise<{ port: number; accepted: Accepted[]; next: () => Promise<Accepted> }> {
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    path: '/ws',
    http2: true,
    tls: { key: chain!.key, cert: chain!.cert },
    perMessageDeflate: deflate,
    keepAliveInterval: 0,
  });
  const accepted: Accepted[] = [];
  const waiters: Array<(a: Accepted) => void> = [];
  wss.on('connection', (ws, req) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    const a = { ws, req };
    accepted.push(a);
    waiters.shift()?.(a);
  });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(500));
  let taken = 0;
  const next = (): Promise<Accepted> => {
    const i = taken++;
    return i < accepted.length ? Promise.resolve(accepted[i]!) : new Promise((r) => waiters.push(r));
  };
  return { port, accepted, next };
}

/** Resolves on the event `type` of an undici WebSocket (its EventTarget interface). */
function event<E extends Event>(ws: undici.WebSocket, type: string): Promise<E> {
  return new Promise((resolve, reject) => {
    ws.addEventListener(type, (e) => resolve(e as E), { once: true });
    if (type !== 'error') ws.addEventListener('error', (e) => reject(new Error(`undici WebSocket error: ${(e as undici.ErrorEvent).message}`)), { once: true });
  });
}

for (const deflate of [false, true]) {
  t.test(`undici WebSocket over HTTP/2 (TLS, ALPN h2), ${deflate ? 'permessage-deflate' : 'uncompressed'}`, { skip: chain === null ? NO_OPENSSL : false }, async (t) => {
    const { port, next } = await server(t, deflate);
    const agent = new undici.Agent({ allowH2: true, connect: { ca: chain!.ca } });
    t.teardown(() => agent.destroy());
    const url = `wss://127.0.0.1:${port}/ws`;

    const a = new undici.WebSocket(url, { dispatcher: agent });
    a.binaryType = 'arraybuffer';
    await event(a, 'open');
    const sa = await next();
    t.equal(sa.req.httpVersion, '2.0', "server side: req.httpVersion '2.0', an extended CONNECT");
    t.equal(sa.req.method, 'CONNECT');
    t.equal(sa.ws.httpVersion, '2');
    // undici always offers `permessage-deflate; client_max_window_bits`; the server takes it when enabled.
    t.equal(sa.req.headers['sec-websocket-extensions'], 'permessage-deflate; client_max_window_bits', 'undici offered permessage-deflate');
    t.equal(a.extensions, deflate ? 'permessage-deflate' : '', 'undici sees the negotiated extensions');
    t.equal(sa.ws.extensions, a.extensions, 'both ends agree');

    a.send('hello over h2');
    t.equal((await event<undici.MessageEvent>(a, 'message')).data, 'hello over h2', 'text echoed');
    const bytes = new Uint8Array(256).map((_v, i) => i);
    a.send(bytes);
    t.same(new Uint8Array((await event<undici.MessageEvent>(a, 'message')).data as ArrayBuffer), bytes, 'binary echoed, every byte value');
    // Larger than one DATA frame (16 KiB) and than the initial stream window (64 KiB).
    const big = 'x'.repeat(40_000) + 'é'.repeat(30_000);
    a.send(big);
    t.equal((await event<undici.MessageEvent>(a, 'message')).data, big, '100 KB of text across DATA frames and window updates');

    // Clean close started by undici: its code and reason reach us; we echo the code.
    const serverSawA = closeOf(sa.ws);
    a.close(4001, 'client says bye');
    const ca = await event<undici.CloseEvent>(a, 'close');
    t.same(await serverSawA, { code: 4001, reason: 'client says bye', wasClean: true }, 'server: the client’s code and reason, clean');
    t.same({ code: ca.code, wasClean: ca.wasClean }, { code: 4001, wasClean: true }, 'undici: clean, our echo of its code');

    // Clean close started by us, on a second WebSocket of the same session.
    const b = new undici.WebSocket(url, { dispatcher: agent });
    await event(b, 'open');
    const sb = await next();
    t.equal(sb.req.httpVersion, '2.0');
    const serverSawB = closeOf(sb.ws);
    sb.ws.close(4002, 'server says bye');
    const cb = await event<undici.CloseEvent>(b, 'close');
    t.same({ code: cb.code, reason: cb.reason, wasClean: cb.wasClean }, { code: 4002, reason: 'server says bye', wasClean: true }, 'undici: our code and reason, clean');
    // undici echoes the code without a reason (RFC 6455 §5.5.1 allows either).
    t.same(await serverSawB, { code: 4002, reason: '', wasClean: true }, 'server: the closing handshake completed');
  });
}
