// ws.subscribe / unsubscribe / topics, server.publish / subscribers, ws.publish, over real sockets.
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { InvalidArgumentError, InvalidStateError } from '../../lib/errors.js';
import { OP } from '../helpers/frames.js';
import { nextConnection, rawSubscriber, serverFrame, startServer } from './setup.js';

t.test('server.publish reaches every subscriber of the topic and nobody else, with the exact frame bytes', async (t) => {
  const { server, port } = await startServer(t);
  const a = await rawSubscriber(t, server, port, ['news']);
  const b = await rawSubscriber(t, server, port, ['news', 'sport']);
  const c = await rawSubscriber(t, server, port, ['sport']);
  t.equal(server.subscribers('news'), 2);
  t.equal(server.subscribers('sport'), 2);
  t.equal(server.subscribers('weather'), 0);

  t.equal(server.publish('news', 'hello'), 2, 'written to two connections');
  t.equal(server.publish('sport', Buffer.from([1, 2, 3])), 2);
  t.equal(server.publish('sport', 'as binary', { binary: true }), 2);
  t.equal(server.publish('weather', 'nobody'), 0);
  const news = serverFrame(0x81, 'hello');
  const bin = serverFrame(0x82, Buffer.from([1, 2, 3]));
  const asBinary = serverFrame(0x82, 'as binary');
  await a.peer.until((r) => r.length >= news.length);
  await b.peer.until((r) => r.length >= news.length + bin.length + asBinary.length);
  await c.peer.until((r) => r.length >= bin.length + asBinary.length);
  t.same(a.peer.received, news, 'a: the text frame only');
  t.same(b.peer.received, Buffer.concat([news, bin, asBinary]), 'b: both topics, in publish order');
  t.same(c.peer.received, Buffer.concat([bin, asBinary]), 'c: sport only');
});

t.test('ws.publish goes to every other subscriber, never back to the sender', async (t) => {
  const { server, port } = await startServer(t);
  const a = await rawSubscriber(t, server, port, ['room']);
  const b = await rawSubscriber(t, server, port, ['room']);
  const c = await rawSubscriber(t, server, port, ['room']);
  t.equal(a.ws.publish('room', 'from a'), 2);
  t.equal(b.ws.publish('room', 'from b'), 2);
  const fa = serverFrame(0x81, 'from a');
  const fb = serverFrame(0x81, 'from b');
  await c.peer.until((r) => r.length >= fa.length + fb.length);
  await a.peer.until((r) => r.length >= fb.length);
  await b.peer.until((r) => r.length >= fa.length);
  // A marker through the server, so anything misrouted would have arrived before it.
  server.publish('room', 'end');
  const end = serverFrame(0x81, 'end');
  for (const p of [a, b, c]) await p.peer.until((r) => r.subarray(r.length - end.length).equals(end));
  t.same(a.peer.received, Buffer.concat([fb, end]), 'a got b\'s message, not its own');
  t.same(b.peer.received, Buffer.concat([fa, end]), 'b got a\'s message, not its own');
  t.same(c.peer.received, Buffer.concat([fa, fb, end]));
  // A connection may publish to a topic it is not subscribed to.
  const d = await rawSubscriber(t, server, port, []);
  t.equal(d.ws.publish('room', 'x'), 3);
});

t.test('subscribe/unsubscribe return values, ws.topics is a read-only live view', async (t) => {
  const { server, port } = await startServer(t);
  const { peer, ws } = await rawSubscriber(t, server, port, []);
  const view = ws.topics;
  t.equal(view.size, 0);
  t.equal(ws.subscribe('a'), true);
  t.equal(ws.subscribe('a'), false, 'already subscribed');
  t.equal(ws.subscribe('b'), true);
  t.same([...ws.topics], ['a', 'b']);
  t.same([...view], ['a', 'b'], 'the view taken earlier follows the changes');
  t.ok(view.has('a'));
  t.equal((view as unknown as { add?: unknown }).add, undefined, 'no add() on the view');
  t.equal(ws.unsubscribe('a'), true);
  t.equal(ws.unsubscribe('a'), false, 'not subscribed any more');
  t.equal(ws.unsubscribe('never'), false);
  t.same([...ws.topics], ['b']);
  t.equal(server.subscribers('a'), 0);
  t.equal(server.publish('a', 'gone'), 0);
  t.equal(server.publish('b', 'here'), 1);
  await peer.until((r) => r.length >= 6);
  t.same(peer.received, serverFrame(0x81, 'here'));
  t.throws(() => ws.subscribe(42 as unknown as string), InvalidArgumentError);
  t.throws(() => server.publish(undefined as unknown as string, 'x'), InvalidArgumentError);
});

t.test('a connection leaves every topic when it closes, whichever way', async (t) => {
  const { server, port } = await startServer(t);
  const a = await rawSubscriber(t, server, port, ['x', 'y']);
  const b = await rawSubscriber(t, server, port, ['x']);
  const c = await rawSubscriber(t, server, port, ['y']);
  t.equal(server.subscribers('x'), 2);
  // a: closing handshake from the client; b: TCP reset; c: server-side terminate().
  const closedA = new Promise((r) => a.ws.once('close', r));
  await a.peer.send({ opcode: OP.CLOSE, payload: Buffer.from([0x03, 0xe8]) });
  await closedA;
  t.equal(server.subscribers('x'), 1);
  t.equal(server.subscribers('y'), 1);
  t.equal(a.ws.topics.size, 0, 'its view is empty after close');
  const closedB = new Promise((r) => b.ws.once('close', r));
  b.peer.reset();
  await closedB;
  const closedC = new Promise((r) => c.ws.once('close', r));
  c.ws.terminate();
  await closedC;
  t.equal(server.subscribers('x'), 0);
  t.equal(server.subscribers('y'), 0);
  t.equal(server.publish('x', 'nobody'), 0);
  t.equal(a.ws.subscribe('x'), false, 'a closed connection cannot join again');
  t.equal(server.subscribers('x'), 0);
});

t.test('client connections have no server: subscribe and publish throw InvalidStateError, topics is empty', async (t) => {
  const { server, port } = await startServer(t);
  const conn = nextConnection(server);
  const ws = await connect(`ws://127.0.0.1:${port}/`, { keepAliveInterval: 0 });
  await conn;
  t.throws(() => ws.subscribe('a'), InvalidStateError);
  t.throws(() => ws.unsubscribe('a'), InvalidStateError);
  t.throws(() => ws.publish('a', 'x'), InvalidStateError);
  t.equal(ws.topics.size, 0);
  t.equal(ws.droppedMessages, 0);
  ws.close(1000);
  await new Promise((r) => ws.once('close', r));
});

t.test('connect() clients receive published text and binary messages as messages', async (t) => {
  const { server, port } = await startServer(t);
  const conn = nextConnection(server);
  const ws = await connect(`ws://127.0.0.1:${port}/`, { keepAliveInterval: 0 });
  (await conn).subscribe('t');
  const got: Array<[string, boolean]> = [];
  const done = new Promise<void>((resolve) => ws.on('message', (data, isBinary) => {
    got.push([data.toString(), isBinary]);
    if (got.length === 3) resolve();
  }));
  server.publish('t', 'one');
  server.publish('t', new Uint8Array([0x74, 0x77, 0x6f]));
  server.publish('t', Buffer.from('three'), { binary: false });
  await done;
  t.same(got, [['one', false], ['two', true], ['three', false]]);
  ws.close(1000);
  await new Promise((r) => ws.once('close', r));
});

t.test('published messages keep their place among the connection\'s own sends', async (t) => {
  const { server, port } = await startServer(t);
  const { peer, ws } = await rawSubscriber(t, server, port, ['t']);
  ws.send('own 1');
  server.publish('t', 'pub 1');
  ws.send('own 2');
  server.publish('t', 'pub 2');
  const want = Buffer.concat(['own 1', 'pub 1', 'own 2', 'pub 2'].map((s) => serverFrame(0x81, s)));
  await peer.until((r) => r.length >= want.length);
  t.same(peer.received, want);
});

t.test('a subscriber in the middle of a streamed send misses the publish (counted), its stream stays intact', async (t) => {
  const { server, port } = await startServer(t);
  const { peer, ws } = await rawSubscriber(t, server, port, ['t']);
  const drops: string[] = [];
  server.on('drop', (_ws, topic) => drops.push(topic));
  ws.send('part 1 ', { fin: false });
  t.equal(server.publish('t', 'published'), 1, 'addressed to it; it misses it, counted as a drop');
  ws.send('part 2', { fin: true });
  t.equal(server.publish('t', 'after'), 1);
  const want = Buffer.concat([serverFrame(0x01, 'part 1 '), serverFrame(0x80, 'part 2'), serverFrame(0x81, 'after')]);
  await peer.until((r) => r.length >= want.length);
  t.same(peer.received, want);
  t.equal(ws.droppedMessages, 1);
  t.same(drops, ['t']);
});

t.test('a WebSocket over HTTP/2 (RFC 8441) subscribes and receives publishes like an HTTP/1.1 one', async (t) => {
  const { server, port } = await startServer(t, { http2: true });
  const conn = nextConnection(server);
  const h2 = await connect(`ws://127.0.0.1:${port}/`, { http: '2', keepAliveInterval: 0 });
  const sws = await conn;
  t.equal(sws.httpVersion, '2');
  t.equal(sws.subscribe('t'), true);
  const raw = await rawSubscriber(t, server, port, ['t']);
  const got = new Promise<string>((resolve) => h2.once('message', (d) => resolve(d.toString())));
  t.equal(server.publish('t', 'both'), 2);
  t.equal(await got, 'both');
  await raw.peer.until((r) => r.length >= 6);
  t.same(raw.peer.received, serverFrame(0x81, 'both'));
  const closed = new Promise((r) => sws.once('close', r));
  h2.close(1000);
  await closed;
  t.equal(server.subscribers('t'), 1, 'the HTTP/2 WebSocket left on close');
});

t.test('published messages are data messages for idleTimeout: a subscriber that only receives publishes stays open, then idles out with 1001', async (t) => {
  const { server, port } = await startServer(t, { idleTimeout: 300 });
  const { peer, ws } = await rawSubscriber(t, server, port, ['tick']);
  // Nothing from the peer, only publishes, for three idle timeouts.
  const until = Date.now() + 900;
  let sent = 0;
  while (Date.now() < until) {
    server.publish('tick', 'x');
    sent++;
    await new Promise((r) => setTimeout(r, 40));
  }
  t.equal(ws.readyState, ws.OPEN, 'still open while publishes flow');
  await peer.waitFor(() => peer.frames.length >= sent, 5000, `${sent} publishes`);
  t.equal(peer.frames.filter((f) => f.opcode === OP.TEXT).length, sent, 'every publish arrived');
  // Then no publishes: the idle timeout closes it.
  const started = Date.now();
  t.equal(await peer.untilClose(), 1001);
  t.ok(Date.now() - started >= 200, `closed ${Date.now() - started} ms after the last publish, not before the idle timeout`);
});
