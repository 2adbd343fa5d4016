// WebSocketStream: open, read, write, close; closed rejecting with WebSocketError on an
// abnormal close; abort; the close checks; backpressure both ways over real sockets.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { WebSocketStream, WebSocketError } from '../../lib/web/index.js';
import { OP } from '../helpers/frames.js';
import { scriptedServer, ScriptedServer } from '../helpers/raw-server.js';
import { echoServer, thrown, until } from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

t.test('opened gives the streams, protocol and extensions; messages both ways; a clean close resolves closed', async (t) => {
  const { url, connections } = await echoServer(t, { protocols: ['chat'], perMessageDeflate: true });
  const wss = new WebSocketStream(url, { protocols: ['chat', 'other'] });
  t.equal(wss.url, url);
  const { readable, writable, protocol, extensions } = await wss.opened;
  t.equal(protocol, 'chat');
  t.match(extensions, /^permessage-deflate/);
  const writer = writable.getWriter();
  const reader = readable.getReader();
  await writer.write('text ✓');
  await writer.write(new Uint8Array([1, 2, 3]));
  await writer.write(new Uint16Array([0x0102]).buffer);
  t.same(await reader.read(), { value: 'text ✓', done: false });
  const bin = await reader.read();
  t.ok(bin.value instanceof Uint8Array && !Buffer.isBuffer(bin.value), 'binary is a plain Uint8Array');
  t.same([...(bin.value as Uint8Array)], [1, 2, 3]);
  t.same([...((await reader.read()).value as Uint8Array)], [...new Uint8Array(new Uint16Array([0x0102]).buffer)]);
  const serverClose = new Promise<[number, string]>((r) => connections[0]!.once('close', (c, reason) => r([c, reason])));
  wss.close({ closeCode: 4000, reason: 'done' });
  t.same(await serverClose, [4000, 'done']);
  t.same(await wss.closed, { closeCode: 4000, reason: '' }, "the server's echo: its code, no reason");
  t.same(await reader.read(), { value: undefined, done: true }, 'the readable ends');
  const err = await rejection(writer.write('late'));
  t.equal((err as DOMException).name, 'InvalidStateError', 'the writable is errored');
});

t.test('an abnormal close rejects closed and errors both streams with a WebSocketError (1006)', async (t) => {
  const server = await ScriptedServer.listen();
  t.teardown(() => server.close());
  const wss = new WebSocketStream(server.url);
  const { peer } = await server.accept();
  const { readable } = await wss.opened;
  const reader = readable.getReader();
  await peer.send({ opcode: OP.TEXT, payload: 'before' });
  t.same(await reader.read(), { value: 'before', done: false });
  peer.reset();
  const err = (await rejection(wss.closed)) as WebSocketError;
  t.ok(err instanceof WebSocketError && err instanceof DOMException);
  t.same([err.name, err.closeCode, err.reason], ['WebSocketError', 1006, '']);
  t.equal(await rejection(reader.read()), err, 'the readable errors with it');
});

t.test('a connection that never opens rejects opened and closed; so does close() while connecting', async (t) => {
  const refused = new WebSocketStream('ws://127.0.0.1:1/');
  const e1 = (await rejection(refused.opened)) as WebSocketError;
  t.equal(e1.name, 'WebSocketError');
  t.equal(((await rejection(refused.closed)) as WebSocketError).closeCode, 1006);
  const { url } = await echoServer(t);
  const early = new WebSocketStream(url);
  early.close();
  t.equal(((await rejection(early.opened)) as Error).name, 'WebSocketError');
  t.equal(((await rejection(early.closed)) as WebSocketError).closeCode, 1006);
});

t.test('signal: aborted before, or during the handshake: opened and closed reject with its reason', async (t) => {
  const reason = new Error('stop');
  const pre = new WebSocketStream('ws://127.0.0.1:1/', { signal: AbortSignal.abort(reason) });
  t.equal(await rejection(pre.opened), reason);
  t.equal(await rejection(pre.closed), reason);
  // A server that never answers the upgrade.
  const silent = await scriptedServer(t, () => {});
  const ac = new AbortController();
  const during = new WebSocketStream(silent.url, { signal: ac.signal });
  await until(() => silent.requests.length === 1);
  ac.abort(reason);
  t.equal(await rejection(during.opened), reason);
  t.equal(await rejection(during.closed), reason);
});

t.test('close() and WebSocketError check codes and reasons as the standard says', async (t) => {
  const { url } = await echoServer(t);
  const wss = new WebSocketStream(url);
  await wss.opened;
  t.equal(thrown(() => wss.close({ closeCode: 1001 })), 'DOMException InvalidAccessError');
  t.equal(thrown(() => wss.close({ closeCode: 1000, reason: 'x'.repeat(124) })), 'DOMException SyntaxError');
  t.equal(thrown(() => wss.close({ closeCode: 70000 })), 'TypeError', '[EnforceRange]');
  t.equal(thrown(() => wss.close({ closeCode: NaN })), 'TypeError');
  t.equal(thrown(() => new WebSocketError('m', { closeCode: 1006 })), 'DOMException InvalidAccessError');
  const e = new WebSocketError('m', { reason: 'r' });
  t.same([e.message, e.name, e.closeCode, e.reason], ['m', 'WebSocketError', 1000, 'r'], 'a reason alone means 1000');
  t.same([new WebSocketError().closeCode, new WebSocketError().reason], [null, '']);
  wss.close({ reason: 'bye' });
  t.same(await wss.closed, { closeCode: 1000, reason: '' });
});

t.test("cancelling the readable with a WebSocketError closes with its code and reason", async (t) => {
  const { url, connections } = await echoServer(t);
  const wss = new WebSocketStream(url);
  const { readable } = await wss.opened;
  const got = new Promise<[number, string]>((r) => connections[0]!.once('close', (c, reason) => r([c, reason])));
  await readable.cancel(new WebSocketError('', { closeCode: 4321, reason: 'cancelled' }));
  t.same(await got, [4321, 'cancelled']);
  await wss.closed;
});

t.test('readable backpressure: an unread stream stops parsing; a ping behind queued messages is answered only once they are read', async (t) => {
  const { url, connections } = await echoServer(t);
  const wss = new WebSocketStream(url);
  const { readable } = await wss.opened;
  const conn = connections[0]!;
  let pongs = 0;
  conn.on('pong', () => pongs++);
  const COUNT = 64;
  for (let i = 0; i < COUNT; i++) conn.send(Buffer.alloc(64 * 1024, i));
  conn.ping();
  await new Promise((r) => setTimeout(r, 300));
  t.equal(pongs, 0, 'the 4 MiB before the ping are not parsed while nobody reads');
  const reader = readable.getReader();
  for (let i = 0; i < COUNT; i++) {
    const { value } = await reader.read();
    if ((value as Uint8Array).length !== 64 * 1024 || (value as Uint8Array)[0] !== i) t.fail(`message ${i} is wrong`);
  }
  await until(() => pongs === 1);
  t.equal(pongs, 1, 'reading them let the client reach the ping and answer it');
  wss.close();
  await wss.closed;
});

t.test('readable backpressure: memory stays bounded by the kernel buffers, the parser and the queue; nothing is lost', async (t) => {
  const MESSAGE = 64 * 1024;
  const kernelMax = (name: string): number => {
    try {
      return Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[2]);
    } catch {
      return 8 << 20;
    }
  };
  // What the client side may hold without reading: its receive buffer, the server's send buffer,
  // the parser's 1 MiB of unparsed input, the stream's 64 KiB queue, one message in hand.
  const bound = kernelMax('tcp_rmem') + kernelMax('tcp_wmem') + (1 << 20) + 2 * MESSAGE;
  const COUNT = Math.ceil((bound + (16 << 20)) / MESSAGE);
  const { url, connections } = await echoServer(t, { maxSendQueue: 2 * COUNT * MESSAGE });
  const wss = new WebSocketStream(url);
  const { readable } = await wss.opened;
  const conn = connections[0]!;
  // The server sends as fast as its socket takes the bytes (the next batch on each drain).
  let sent = 0;
  const pump = (): void => {
    while (sent < COUNT) if (!conn.send(Buffer.alloc(MESSAGE, sent++ & 0xff))) return;
  };
  conn.on('drain', pump);
  pump();
  await new Promise((r) => setTimeout(r, 300));
  const held = sent * MESSAGE - conn.bufferedAmount;
  t.ok(sent < COUNT, `the server could send only ${sent} of ${COUNT} messages`);
  t.ok(held <= bound, `the client side holds ${(held / 2 ** 20).toFixed(1)} MiB (bound ${(bound / 2 ** 20).toFixed(1)})`);
  const reader = readable.getReader();
  for (let i = 0; i < COUNT; i++) {
    const { value } = await reader.read();
    if ((value as Uint8Array).length !== MESSAGE || (value as Uint8Array)[0] !== (i & 0xff)) {
      t.fail(`message ${i} is wrong`);
      break;
    }
  }
  t.pass(`all ${COUNT} messages read in order`);
  wss.close();
  await wss.closed;
});

t.test('writable backpressure: a write stays pending while the socket cannot take it, and resolves as it drains', async (t) => {
  const server = await ScriptedServer.listen();
  t.teardown(() => server.close());
  const wss = new WebSocketStream(server.url);
  const { peer } = await server.accept();
  peer.stopReading();
  const { writable } = await wss.opened;
  const writer = writable.getWriter();
  let small = false;
  await writer.write('small').then(() => (small = true));
  t.ok(small, 'a write under the high-water mark resolves');
  const BIG = 32 * 1024 * 1024;
  let done = false;
  const big = writer.write(new Uint8Array(BIG)).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(done, 'the 32 MiB write is pending: the server reads nothing, the kernel holds far less');
  t.ok(writer.desiredSize! <= 0, 'the writer reports backpressure');
  peer.startReading();
  await big;
  t.ok(done, 'it resolves once the socket drained it');
  await peer.until(() => peer.frames.some((f) => f.payload.length === BIG));
  t.same(peer.frames.map((f) => [f.opcode, f.payload.length]), [[OP.TEXT, 5], [OP.BINARY, BIG]]);
  await writer.close();
  t.equal(await peer.untilClose(), 1005, 'closing the writable starts the closing handshake (no code)');
  await peer.send({ opcode: OP.CLOSE });
  peer.end();
  t.same(await wss.closed, { closeCode: 1005, reason: '' });
});
