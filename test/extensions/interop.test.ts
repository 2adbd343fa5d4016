// permessage-deflate interop with the `ws` package, both roles, for each
// parameter combination ws supports: negotiation must agree and compressed
// messages (context takeover stress, large, fragmented, empty) must survive
// the round trip in both directions.
import t from 'tap';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer as WsServer, WebSocket as WsClient, type PerMessageDeflateOptions as WsDeflateOptions } from 'ws';
import { WebSocketServer, connect, type WebSocket } from '../../lib/index.js';
import { PerMessageDeflate, type PerMessageDeflateOptions } from '../../lib/extensions/permessage-deflate.js';
import { parseExtensionHeader } from '../../lib/http/extension-header.js';

// Count calls that really went through our transform (i.e. RSV1 messages).
const calls = { compress: 0, decompress: 0 };
const origCompress = PerMessageDeflate.prototype.compress;
const origDecompress = PerMessageDeflate.prototype.decompress;
PerMessageDeflate.prototype.compress = function (this: PerMessageDeflate, ...args) { calls.compress++; return origCompress.apply(this, args); };
PerMessageDeflate.prototype.decompress = function (this: PerMessageDeflate, ...args) { calls.decompress++; return origDecompress.apply(this, args); };
t.teardown(() => {
  PerMessageDeflate.prototype.compress = origCompress;
  PerMessageDeflate.prototype.decompress = origDecompress;
});

const json = (i: number) => JSON.stringify({ seq: i, user: 'someone', text: 'the same words again and again '.repeat(3 + (i % 5)) });
/** The messages each side sends; echoed back unchanged. */
const MESSAGES: Array<[Buffer | string, boolean]> = [
  ...Array.from({ length: 6 }, (_, i) => [json(i), false] as [string, boolean]),
  [Buffer.alloc(300_000, 'abcdefghij'), true],
  ['', false],
  [Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff)), true],
];

/** Resolves once `got` holds `n` messages; rejects if the connection closes first. */
function collect(emitter: NodeJS.EventEmitter, n: number): Promise<Array<[Buffer, boolean]>> {
  const got: Array<[Buffer, boolean]> = [];
  return new Promise((resolve, reject) => {
    emitter.on('message', (data: Buffer, isBinary: boolean) => {
      got.push([data, isBinary]);
      if (got.length === n) resolve(got);
    });
    emitter.once('close', (code: number) => reject(new Error(`closed with ${code} after ${got.length} of ${n} messages`)));
  });
}

function header(ext: string): Record<string, string | true> {
  const [offer] = parseExtensionHeader(ext);
  return Object.fromEntries(offer!.params);
}

const wsClientCases: WsDeflateOptions[] = [
  {}, { serverNoContextTakeover: true }, { clientNoContextTakeover: true },
  { serverMaxWindowBits: 8 }, { serverMaxWindowBits: 11 }, { clientMaxWindowBits: 8 }, { clientMaxWindowBits: 12 },
  { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 10 },
];
const ourServerCases: PerMessageDeflateOptions[] = [
  {}, { serverNoContextTakeover: true }, { clientNoContextTakeover: true }, { serverMaxWindowBits: 10 },
  { clientMaxWindowBits: 9 }, { serverMaxWindowBits: 8, clientMaxWindowBits: 8, serverNoContextTakeover: true },
];

t.test('ws client -> our server', async (t) => {
  for (const sopts of ourServerCases) {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { ...sopts, threshold: 0 }, keepAliveInterval: 0 });
    server.on('connection', (ws: WebSocket) => ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })));
    const { port } = await server.listen();
    for (const copts of wsClientCases) {
      const label = `ws ${JSON.stringify(copts)} / ours ${JSON.stringify(sopts)}`;
      // ws requires clientMaxWindowBits from the server only when it offered a value; it declines
      // nothing we answer, so every pair negotiates.
      const before = { ...calls };
      const client = new WsClient(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { ...copts, threshold: 0 } });
      // ws's `extensions` lists names only: read the parameters from the 101 response.
      const upgraded = once(client, 'upgrade');
      await once(client, 'open');
      const [res] = await upgraded;
      const answer = String(res.headers['sec-websocket-extensions']);
      t.equal(client.extensions, 'permessage-deflate', `${label}: negotiated ${answer}`);
      const ext = header(answer);
      if (copts.serverMaxWindowBits !== undefined || sopts.serverMaxWindowBits !== undefined) {
        t.equal(Number(ext.server_max_window_bits), Math.min(copts.serverMaxWindowBits as number ?? 15, sopts.serverMaxWindowBits ?? 15), `${label}: server window`);
      }
      if (copts.serverNoContextTakeover || sopts.serverNoContextTakeover) t.equal(ext.server_no_context_takeover, true, `${label}: snct`);
      const echoed = collect(client, MESSAGES.length);
      for (const [m, binary] of MESSAGES) client.send(m, { binary });
      const got = await echoed;
      const ok = MESSAGES.every(([m, bin], i) => got[i]![0].equals(Buffer.from(m)) && got[i]![1] === bin);
      t.ok(ok, `${label}: all ${MESSAGES.length} messages echoed intact`);
      t.equal(calls.decompress - before.decompress, MESSAGES.length, `${label}: every message arrived compressed`);
      t.equal(calls.compress - before.compress, MESSAGES.length, `${label}: every echo left compressed`);
      client.close(1000);
      await once(client, 'close');
    }
    await server.close();
  }
});

const wsServerCases: WsDeflateOptions[] = [
  {}, { serverNoContextTakeover: true }, { clientNoContextTakeover: true }, { serverMaxWindowBits: 9 },
  { clientMaxWindowBits: 8 }, { clientMaxWindowBits: 11, serverMaxWindowBits: 12 },
];
const ourClientCases: PerMessageDeflateOptions[] = [
  {}, { serverNoContextTakeover: true }, { clientNoContextTakeover: true }, { serverMaxWindowBits: 12 },
  { clientMaxWindowBits: 10 }, { clientMaxWindowBits: 8, serverMaxWindowBits: 13, clientNoContextTakeover: true },
];

t.test('our client -> ws server', async (t) => {
  for (const sopts of wsServerCases) {
    const wss = new WsServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { ...sopts, threshold: 0 } });
    await once(wss, 'listening');
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    const port = (wss.address() as AddressInfo).port;
    for (const copts of ourClientCases) {
      const label = `ours ${JSON.stringify(copts)} / ws ${JSON.stringify(sopts)}`;
      // ws finds no acceptable offer when its own window setting is above the value we
      // offered, and then refuses the upgrade with 400 (rather than dropping the extension).
      const refused = (sopts.serverMaxWindowBits !== undefined && copts.serverMaxWindowBits !== undefined &&
        (sopts.serverMaxWindowBits as number) > copts.serverMaxWindowBits) ||
        (sopts.clientMaxWindowBits !== undefined && copts.clientMaxWindowBits !== undefined &&
        (sopts.clientMaxWindowBits as number) > copts.clientMaxWindowBits);
      const url = `ws://127.0.0.1:${port}/`;
      if (refused) {
        await t.rejects(connect(url, { perMessageDeflate: copts, keepAliveInterval: 0 }), { code: 'ERR_WS_UPGRADE_STATUS', status: 400 }, `${label}: ws refuses`);
        continue;
      }
      const before = { ...calls };
      const ws = await connect(url, { perMessageDeflate: { ...copts, threshold: 0 }, keepAliveInterval: 0 });
      t.match(ws.extensions, /^permessage-deflate/, `${label}: negotiated ${ws.extensions}`);
      const ext = header(ws.extensions);
      if (copts.serverNoContextTakeover || sopts.serverNoContextTakeover) t.equal(ext.server_no_context_takeover, true, `${label}: snct`);
      if (sopts.serverMaxWindowBits !== undefined || copts.serverMaxWindowBits !== undefined) {
        t.equal(Number(ext.server_max_window_bits), Math.min(sopts.serverMaxWindowBits as number ?? 15, copts.serverMaxWindowBits ?? 15), `${label}: server window`);
      }
      const echoed = collect(ws, MESSAGES.length);
      for (const [m, binary] of MESSAGES) ws.send(m, { binary });
      const got = await echoed;
      const ok = MESSAGES.every(([m, bin], i) => got[i]![0].equals(Buffer.from(m)) && got[i]![1] === bin);
      t.ok(ok, `${label}: all ${MESSAGES.length} messages echoed intact`);
      t.equal(calls.compress - before.compress, MESSAGES.length, `${label}: every message left compressed`);
      t.equal(calls.decompress - before.decompress, MESSAGES.length, `${label}: every echo arrived compressed`);
      ws.close(1000);
      await once(ws, 'close');
    }
    await new Promise<void>((r) => wss.close(() => r()));
  }
});

t.test('fragmented compressed messages both ways', async (t) => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 }, keepAliveInterval: 0 });
  server.on('connection', (ws: WebSocket) => ws.on('message', (data: Buffer) => {
    // Echo as a streamed message in three fragments.
    const a = data.length / 3 | 0;
    ws.send(data.subarray(0, a), { fin: false });
    ws.send(data.subarray(a, 2 * a), { fin: false });
    ws.send(data.subarray(2 * a), { fin: true });
  }));
  const { port } = await server.listen();
  const client = new WsClient(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { threshold: 0 } });
  await once(client, 'open');
  const text = 'fragment me '.repeat(2000);
  client.send(text.slice(0, 100), { fin: false });
  client.send(text.slice(100, 5000), { fin: false });
  client.send(text.slice(5000), { fin: true });
  const [data] = await once(client, 'message');
  t.equal((data as Buffer).toString(), text);
  client.close();
  await once(client, 'close');
  await server.close();
});
