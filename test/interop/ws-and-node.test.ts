// Interop with implementations written elsewhere: the `ws` package (both roles)
// and Node's own WebSocket client (undici; behind --experimental-websocket on Node 20).
import t from 'tap';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { WebSocketServer as WsServer, WebSocket as WsClient } from 'ws';
import { WebSocketServer, connect, type WebSocket, type PerMessageDeflateOptions } from '../../lib/index.js';

async function echoServer(perMessageDeflate: boolean | PerMessageDeflateOptions): Promise<{ server: WebSocketServer; url: string }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate, protocols: ['chat'], keepAliveInterval: 0 });
  server.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const { port } = await server.listen();
  return { server, url: `ws://127.0.0.1:${port}/` };
}

for (const deflate of [false, true]) {
  t.test(`ws client -> our server (deflate ${deflate})`, async (t) => {
    const { server, url } = await echoServer(deflate);
    const client = new WsClient(url, ['chat'], { perMessageDeflate: deflate });
    await once(client, 'open');
    t.equal(client.protocol, 'chat');
    t.equal(client.extensions.includes('permessage-deflate'), deflate);
    const big = randomBytes(1024 * 1024);
    const messages: Array<[Buffer, boolean]> = [];
    client.on('message', (data: Buffer, isBinary: boolean) => messages.push([data, isBinary]));
    client.send('héllo');
    client.send(big);
    client.send('x'.repeat(5000));
    // A message streamed in fragments.
    client.send('part1-', { fin: false });
    client.send('part2', { fin: true });
    while (messages.length < 4) await new Promise((r) => setTimeout(r, 5));
    t.same(messages[0], [Buffer.from('héllo'), false]);
    t.ok(messages[1]![0].equals(big) && messages[1]![1], '1 MiB binary echoed intact');
    t.same(messages[2], [Buffer.from('x'.repeat(5000)), false]);
    t.same(messages[3], [Buffer.from('part1-part2'), false]);
    const serverClosed = once([...server.clients][0]!, 'close');
    client.close(4000, 'done');
    const [code, reason] = await once(client, 'close');
    t.equal(code, 4000);
    t.equal(reason.toString(), '');
    const [sCode, sReason, wasClean] = await serverClosed;
    t.same([sCode, sReason, wasClean], [4000, 'done', true]);
    await server.close();
  });

  t.test(`our client -> ws server (deflate ${deflate})`, async (t) => {
    const wss = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: deflate ? { threshold: 0 } : false, handleProtocols: (p) => (p.has('chat') ? 'chat' : false) });
    await once(wss, 'listening');
    const serverClose = new Promise<[number, string]>((resolve) => {
      wss.on('connection', (ws) => {
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
        ws.on('close', (code, reason) => resolve([code, reason.toString()]));
      });
    });
    const port = (wss.address() as { port: number }).port;
    const ws = await connect(`ws://127.0.0.1:${port}/`, { protocols: ['chat'], perMessageDeflate: deflate, keepAliveInterval: 0 });
    t.equal(ws.protocol, 'chat');
    t.equal(ws.extensions.includes('permessage-deflate'), deflate);
    const messages: Array<[Buffer, boolean]> = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => messages.push([data, isBinary]));
    const big = randomBytes(1024 * 1024);
    ws.send('héllo');
    ws.send(big);
    ws.send('y'.repeat(5000));
    ws.send('a-', { fin: false });
    ws.send('b-', { fin: false });
    ws.send('c', { fin: true });
    while (messages.length < 4) await new Promise((r) => setTimeout(r, 5));
    t.same(messages[0], [Buffer.from('héllo'), false]);
    t.ok(messages[1]![0].equals(big) && messages[1]![1], '1 MiB binary echoed intact');
    t.same(messages[2], [Buffer.from('y'.repeat(5000)), false]);
    t.same(messages[3], [Buffer.from('a-b-c'), false]);
    ws.close(4001, 'bye');
    const [code, , wasClean] = await once(ws, 'close');
    t.equal(code, 4001);
    t.equal(wasClean, true);
    t.same(await serverClose, [4001, 'bye']);
    await new Promise<void>((r) => wss.close(() => r()));
  });

  t.test(`Node's built-in WebSocket client -> our server (deflate ${deflate})`, async (t) => {
    const { server, url } = await echoServer(deflate);
    const script = `
      const ws = new WebSocket(${JSON.stringify(url)}, ['chat']);
      ws.binaryType = 'arraybuffer';
      const got = [];
      ws.onopen = () => {
        ws.send('héllo');
        ws.send(new Uint8Array([0, 1, 2, 255]));
        ws.send('z'.repeat(70000));
      };
      ws.onmessage = (e) => {
        got.push(typeof e.data === 'string' ? ['text', e.data.length > 20 ? e.data.length : e.data] : ['binary', [...new Uint8Array(e.data)]]);
        if (got.length === 3) ws.close(4002, 'node done');
      };
      ws.onclose = (e) => {
        console.log(JSON.stringify({ protocol: ws.protocol, extensions: ws.extensions, got, code: e.code, wasClean: e.wasClean }));
      };
      ws.onerror = (e) => { console.log(JSON.stringify({ error: String(e.message || e.type) })); };
    `;
    const flags = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];
    const serverClose = new Promise<unknown[]>((resolve) => server.once('connection', (ws: WebSocket) => ws.once('close', (...args: unknown[]) => resolve(args))));
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [...flags, '--no-warnings', '-e', script], { timeout: 15_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    t.equal(result.protocol, 'chat');
    t.same(result.got, [['text', 'héllo'], ['binary', [0, 1, 2, 255]], ['text', 70000]]);
    t.equal(result.code, 4002);
    t.equal(result.wasClean, true);
    t.same(await serverClose, [4002, 'node done', true]);
    t.comment(`Node's client negotiated extensions: "${result.extensions}"`);
    await server.close();
  });
}

// Node's client offers "permessage-deflate; client_max_window_bits"; the server decides the rest.
// Each combination the server can answer with must keep messages intact in both directions.
const nodeDeflateMatrix: PerMessageDeflateOptions[] = [
  { threshold: 0 },
  { threshold: 0, serverNoContextTakeover: true },
  { threshold: 0, clientNoContextTakeover: true },
  { threshold: 0, serverMaxWindowBits: 9 },
  { threshold: 0, clientMaxWindowBits: 10 },
  { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 12 },
];

for (const opts of nodeDeflateMatrix) {
  t.test(`Node's built-in client, deflate negotiated with ${JSON.stringify(opts)}`, async (t) => {
    const { server, url } = await echoServer(opts);
    const extensions = new Promise<string>((resolve) => server.once('connection', (ws: WebSocket) => resolve(ws.extensions)));
    const script = `
      const ws = new WebSocket(${JSON.stringify(url)});
      const sent = [];
      for (let i = 0; i < 6; i++) sent.push(('message ' + i + ' ').repeat(200 + i * 50));
      const got = [];
      ws.onopen = () => { for (const m of sent) ws.send(m); };
      ws.onmessage = (e) => { got.push(e.data); if (got.length === sent.length) ws.close(1000); };
      ws.onclose = (e) => console.log(JSON.stringify({ same: got.length === sent.length && got.every((m, i) => m === sent[i]), n: got.length, code: e.code, ext: ws.extensions }));
      ws.onerror = (e) => console.log(JSON.stringify({ error: String(e.message || e.type) }));
    `;
    const flags = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [...flags, '--no-warnings', '-e', script], { timeout: 15_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    const negotiated = await extensions;
    t.match(negotiated, /^permessage-deflate/, `negotiated: ${negotiated}`);
    t.same(result, { same: true, n: 6, code: 1000, ext: result.ext }, 'six compressed messages echoed intact, clean close');
    await server.close();
  });
}
