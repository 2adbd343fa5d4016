// The WHATWG WebSocket interface, point by point: constructor checks, the CONNECTING state,
// constants, event handler attributes, event order and events as tasks, close() checks.
import t from 'tap';
import { WebSocket, CloseEvent, ErrorEvent, MessageEvent } from '../../lib/web/index.js';
import { OP, sframe } from '../helpers/frames.js';
import { ScriptedServer } from '../helpers/raw-server.js';
import { echoServer, record, thrown } from './helpers.js';

/** A port nothing listens on: a listener is opened and closed to find one. */
async function closedPort(): Promise<number> {
  const net = await import('node:net');
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

t.test('the constructor throws SyntaxError for bad URLs, schemes, fragments and subprotocols', async (t) => {
  t.equal(thrown(() => new (WebSocket as unknown as new () => WebSocket)()), 'TypeError', 'the URL is required');
  for (const url of ['ftp://127.0.0.1/', 'file:///tmp/x', 'ws://127.0.0.1/#frag', 'ws://127.0.0.1/#', 'not a url', '/relative', 'ws://']) {
    t.equal(thrown(() => new WebSocket(url)), 'DOMException SyntaxError', url);
  }
  for (const protocols of ['a b', '', 'a,b', 'é', ['x', 'x'], ['chat', 'a/b'], ['ok', '']]) {
    t.equal(thrown(() => new WebSocket('ws://127.0.0.1:1/', protocols)), 'DOMException SyntaxError', JSON.stringify(protocols));
  }
  const e = (() => { try { new WebSocket('ftp://x/'); } catch (err) { return err as DOMException; } })()!;
  t.equal(e.code, 12, 'the legacy code of SyntaxError');
  const port = await closedPort();
  // Subprotocol tokens are case-sensitive: 'chat' and 'Chat' are two.
  const ok = new WebSocket(`ws://127.0.0.1:${port}/`, ['chat', 'Chat']);
  ok.onerror = () => {};
  const { closed } = record(ok);
  await closed;
});

t.test('http and https become ws and wss; the URL is serialized', async (t) => {
  const port = await closedPort();
  const a = new WebSocket(`http://127.0.0.1:${port}/path?q=1`);
  const b = new WebSocket(new URL(`https://127.0.0.1:${port}/x`));
  t.equal(a.url, `ws://127.0.0.1:${port}/path?q=1`);
  t.equal(b.url, `wss://127.0.0.1:${port}/x`);
  const ra = record(a);
  const rb = record(b);
  await Promise.all([ra.closed, rb.closed]);
});

t.test('a real CONNECTING state: the constructor returns at once; send() throws InvalidStateError; constants', async (t) => {
  const { url } = await echoServer(t);
  const ws = new WebSocket(url);
  t.equal(ws.readyState, WebSocket.CONNECTING);
  t.equal(ws.readyState, 0);
  t.equal(thrown(() => ws.send('x')), 'DOMException InvalidStateError');
  t.equal(ws.bufferedAmount, 0);
  t.equal(ws.protocol, '');
  t.equal(ws.extensions, '');
  t.equal(ws.binaryType, 'blob');
  t.same([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED], [0, 1, 2, 3], 'on the class');
  t.same([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3], 'on the instance');
  t.notOk(Object.hasOwn(ws, 'OPEN'), 'from the prototype, not own properties');
  t.ok(ws instanceof EventTarget);
  t.equal(Object.prototype.toString.call(ws), '[object WebSocket]');
  const { events, closed } = record(ws);
  ws.onopen = () => ws.close(1000);
  await closed;
  t.same(events, ['open', 'close 1000  true']);
  t.equal(ws.readyState, WebSocket.CLOSED);
});

t.test('events come in order, each as a task: a microtask queued by a listener runs before the next event', async (t) => {
  // Two messages in one TCP write, then a close: the client parses them in one go.
  const server = await ScriptedServer.listen(() => ({
    after: Buffer.concat([sframe({ opcode: OP.TEXT, payload: 'one' }), sframe({ opcode: OP.TEXT, payload: 'two' })]),
  }));
  t.teardown(() => server.close());
  const ws = new WebSocket(server.url);
  const order: string[] = [];
  ws.onopen = () => {
    order.push('open');
    queueMicrotask(() => order.push('microtask after open'));
  };
  ws.onmessage = (e) => {
    order.push(`message ${e.data}`);
    queueMicrotask(() => order.push(`microtask after ${e.data}`));
    if (e.data === 'two') ws.close(1000, 'done');
  };
  const { peer } = await server.accept();
  const { closed } = record(ws);
  t.same(order, [], 'nothing is dispatched inside the caller');
  t.equal((await peer.untilFrame((f) => f.opcode === OP.CLOSE))?.payload.toString('latin1', 2), 'done');
  t.equal(ws.readyState, WebSocket.CLOSING, 'close() set CLOSING at once');
  await peer.send({ opcode: OP.CLOSE, payload: Buffer.from([0x03, 0xe8, 0x6f, 0x6b]) });
  peer.end();
  await closed;
  t.same(order, ['open', 'microtask after open', 'message one', 'microtask after one', 'message two', 'microtask after two']);
});

t.test('close() while CONNECTING fails the connection: error then close 1006, not inside the call', async (t) => {
  const { url } = await echoServer(t);
  const ws = new WebSocket(url);
  const { events, closed } = record(ws);
  ws.close();
  t.equal(ws.readyState, WebSocket.CLOSING);
  t.same(events, [], 'no event inside close()');
  ws.close(1000, 'twice is a no-op');
  await closed;
  t.same(events, ['error', 'close 1006  false']);
  t.equal(ws.readyState, WebSocket.CLOSED);
});

t.test("close()'s checks: InvalidAccessError for codes other than 1000 and 3000-4999, SyntaxError for reasons over 123 bytes", async (t) => {
  const { url, connections } = await echoServer(t);
  const ws = new WebSocket(url);
  for (const code of [0, 999, 1001, 1005, 1006, 2999, 5000, 65535, NaN, -1]) {
    t.equal(thrown(() => ws.close(code)), 'DOMException InvalidAccessError', `code ${code}`);
  }
  t.equal(thrown(() => ws.close(1000, 'x'.repeat(124))), 'DOMException SyntaxError', '124 ASCII bytes');
  t.equal(thrown(() => ws.close(1000, 'é'.repeat(62))), 'DOMException SyntaxError', '62 two-byte characters');
  t.equal(thrown(() => ws.close(4000, '\ud800'.repeat(42))), 'DOMException SyntaxError', 'a lone surrogate counts as U+FFFD, 3 bytes');
  t.equal(ws.readyState, WebSocket.CONNECTING, 'the failed calls changed nothing');
  await new Promise((r) => (ws.onopen = r));
  const { closed } = record(ws);
  // [Clamp]: 3000.5 rounds to the even 3000; a reason without a code means 1000... here the code is given.
  ws.close(3000.5, 'é'.repeat(61) + 'x');
  t.equal(ws.readyState, WebSocket.CLOSING);
  t.equal(thrown(() => ws.close(1001)), 'DOMException InvalidAccessError', 'checked even when closing');
  const seen = new Promise<[number, string]>((r) => connections[0]!.once('close', (code, reason) => r([code, reason])));
  t.same(await seen, [3000, 'é'.repeat(61) + 'x'], 'the server got that code and the 123-byte reason');
  await closed;
});

t.test('a reason without a code closes with 1000; no arguments send an empty close frame', async (t) => {
  const server = await ScriptedServer.listen();
  t.teardown(() => server.close());
  const a = new WebSocket(server.url);
  const pa = (await server.accept()).peer;
  await new Promise((r) => (a.onopen = r));
  a.close(undefined, 'bye');
  t.same((await pa.untilFrame((f) => f.opcode === OP.CLOSE))!.payload, Buffer.from([0x03, 0xe8, ...Buffer.from('bye')]));
  const b = new WebSocket(server.url);
  const pb = (await server.accept()).peer;
  await new Promise((r) => (b.onopen = r));
  b.close();
  t.same((await pb.untilFrame((f) => f.opcode === OP.CLOSE))!.payload, Buffer.alloc(0));
  const rb = record(b);
  await pb.send({ opcode: OP.CLOSE });
  pb.end();
  await rb.closed;
  t.same(rb.events, ['close 1005  true'], 'an empty close frame from the peer is 1005');
  a.onclose = null;
});

t.test('on<event> attributes: one listener each, in the order first set, replaced in place, removed by null', async (t) => {
  const { url } = await echoServer(t);
  const ws = new WebSocket(url);
  const order: string[] = [];
  ws.addEventListener('message', () => order.push('first listener'));
  ws.onmessage = () => order.push('handler v1');
  ws.addEventListener('message', () => order.push('last listener'));
  ws.onmessage = function (this: WebSocket) {
    order.push(`handler v2 ${this === ws}`);
  };
  t.equal(typeof ws.onmessage, 'function');
  ws.onerror = 'not a function' as unknown as null;
  t.equal(ws.onerror, null, 'a non-function is null');
  t.equal(ws.onclose, null);
  ws.onopen = () => ws.send('ping');
  await new Promise((r) => ws.addEventListener('message', r, { once: true }));
  t.same(order, ['first listener', 'handler v2 true', 'last listener']);
  ws.onmessage = null;
  ws.send('again');
  await new Promise((r) => ws.addEventListener('message', r, { once: true }));
  t.same(order.slice(3), ['first listener', 'last listener'], 'null removed the handler');
  const { closed } = record(ws);
  ws.close();
  await closed;
});

t.test('a clean close by the server: its code and reason, wasClean true; CLOSING meanwhile; no message after close()', async (t) => {
  const server = await ScriptedServer.listen();
  t.teardown(() => server.close());
  const ws = new WebSocket(server.url);
  const { peer } = await server.accept();
  const { events, closed } = record(ws);
  await new Promise((r) => ws.addEventListener('open', r));
  ws.close(4001);
  await peer.untilFrame((f) => f.opcode === OP.CLOSE);
  // Messages the server sent before answering the close are not dispatched: readyState is no longer OPEN.
  await peer.send([{ opcode: OP.TEXT, payload: 'late' }, { opcode: OP.CLOSE, payload: Buffer.concat([Buffer.from([0x0f, 0xa1]), Buffer.from('server bye')]) }]);
  peer.end();
  await closed;
  t.same(events, ['open', 'close 4001 server bye true']);

  const ws2 = new WebSocket(server.url);
  const p2 = (await server.accept()).peer;
  const r2 = record(ws2);
  await new Promise((r) => ws2.addEventListener('open', r));
  await p2.send({ opcode: OP.CLOSE, payload: Buffer.from([0x0b, 0xb8]) });
  await p2.untilFrame((f) => f.opcode === OP.CLOSE);
  t.equal(ws2.readyState, WebSocket.CLOSING, "the peer's close frame started the closing handshake");
  p2.end();
  await r2.closed;
  t.same(r2.events, ['open', 'close 3000  true']);
});

t.test('the event classes', async (t) => {
  const c = new CloseEvent('close', { code: 4000, reason: 'r', wasClean: true });
  t.same([c.type, c.code, c.reason, c.wasClean, c instanceof Event], ['close', 4000, 'r', true, true]);
  t.same([new CloseEvent('close').code, new CloseEvent('close').reason, new CloseEvent('close').wasClean], [0, '', false]);
  const err = new Error('x');
  const e = new ErrorEvent('error', { message: 'm', error: err, lineno: 3 });
  t.same([e.type, e.message, e.error === err, e.lineno, e.filename, e instanceof Event], ['error', 'm', true, 3, '', true]);
  t.equal(MessageEvent, globalThis.MessageEvent, "Node's global MessageEvent");
});
