// The in-memory transport pair: order, backpressure, end and destroy, and WebSockets over it.
import t from 'tap';
import { once } from 'node:events';
import { createPipe } from '../../lib/transport/pipe.js';
import type { TransportListener } from '../../lib/transport/transport.js';
import { pipePair } from '../helpers/pipe-pair.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

function listener() {
  const got: Buffer[] = [];
  const events: string[] = [];
  const l: TransportListener = {
    onData: (c) => { got.push(c); },
    onDrain: () => { events.push('drain'); },
    onTransportError: () => { events.push('error'); },
    onTransportClose: () => { events.push('close'); },
  };
  return { l, got, events, text: () => Buffer.concat(got).toString() };
}

t.test('bytes flow both ways, in order; bytes written before bind() arrive after it', async (t) => {
  const [a, b] = createPipe();
  const la = listener();
  const lb = listener();
  a.bind(la.l);
  a.write([Buffer.from('one '), Buffer.from('two')]);
  await tick();
  t.equal(lb.text(), '', 'b is not bound yet');
  b.bind(lb.l);
  await tick();
  t.equal(lb.text(), 'one two');
  b.write([Buffer.from('back')]);
  await tick();
  t.equal(la.text(), 'back');
  t.equal(a.tls, null);
});

t.test('the writer copies: changing a buffer after write() does not change what arrives', async (t) => {
  const [a, b] = createPipe();
  const lb = listener();
  a.bind(listener().l);
  b.bind(lb.l);
  const buf = Buffer.from('abc');
  a.write([buf]);
  buf.fill(0x7a);
  await tick();
  t.equal(lb.text(), 'abc');
});

t.test('backpressure: a paused reader fills the writer, which drains when reading resumes', async (t) => {
  const [a, b] = createPipe({ highWaterMark: 1000 });
  const la = listener();
  const lb = listener();
  a.bind(la.l);
  b.bind(lb.l);
  b.pauseReading();
  t.equal(a.write([Buffer.alloc(600)]), true);
  t.equal(a.write([Buffer.alloc(600)]), false, 'past the mark');
  t.equal(a.writableLength, 1200);
  t.equal(a.writableNeedDrain, true);
  let flushed = false;
  a.whenFlushed(() => { flushed = true; });
  await tick();
  t.equal(lb.got.length, 0, 'nothing delivered while paused');
  t.same(la.events, []);
  b.resumeReading();
  await tick();
  t.equal(Buffer.concat(lb.got).length, 1200);
  t.same(la.events, ['drain']);
  t.equal(flushed, true);
  t.equal(a.writableLength, 0);
});

t.test('end(): the peer reads everything, then both sides close', async (t) => {
  const [a, b] = createPipe();
  const la = listener();
  const lb = listener();
  a.bind(la.l);
  b.bind(lb.l);
  a.write([Buffer.from('last words')]);
  a.end();
  t.equal(a.write([Buffer.from('ignored')]), true);
  for (let i = 0; i < 5; i++) await tick();
  t.equal(lb.text(), 'last words');
  t.same(la.events, ['close']);
  t.same(lb.events, ['close']);
});

t.test('destroy(): both sides close at once, bytes in flight are dropped', async (t) => {
  const [a, b] = createPipe();
  const la = listener();
  const lb = listener();
  a.bind(la.l);
  b.bind(lb.l);
  a.write([Buffer.from('lost')]);
  a.destroy();
  for (let i = 0; i < 5; i++) await tick();
  t.equal(lb.text(), '');
  t.same(la.events, ['close']);
  t.same(lb.events, ['close']);
});

t.test('WebSockets over a pipe: messages both ways, ping/pong, a clean close', async (t) => {
  const { server, client } = pipePair();
  server.on('message', (data, isBinary) => server.send(data, { binary: isBinary }));
  client.send('hello');
  const [data, isBinary] = await once(client, 'message');
  t.equal(data.toString(), 'hello');
  t.equal(isBinary, false);
  client.send(Buffer.from([1, 2, 3]));
  const [bin, binFlag] = await once(client, 'message');
  t.same([...bin], [1, 2, 3]);
  t.equal(binFlag, true);
  client.ping('are you there');
  const [pong] = await once(client, 'pong');
  t.equal(pong.toString(), 'are you there');
  const serverClosed = once(server, 'close');
  client.close(1000, 'done');
  const [code, reason, wasClean] = await once(client, 'close');
  // Each side reports the peer's close frame: the server's echo carries the code only.
  t.same([code, reason, wasClean], [1000, '', true]);
  t.same(await serverClosed, [1000, 'done', true]);
});

t.test('WebSockets over a pipe: a client that stops reading makes the server buffer, send() returns false, drain follows', async (t) => {
  const { server, client } = pipePair({ server: { sendHighWaterMark: 64 * 1024 } });
  await once(server, 'open');
  client.pause();
  let ok = true;
  let sent = 0;
  while (ok && sent < 100) {
    ok = server.send(Buffer.alloc(16 * 1024));
    sent++;
  }
  t.equal(ok, false, 'send() returned false under backpressure');
  t.ok(server.bufferedAmount >= 64 * 1024, `bufferedAmount ${server.bufferedAmount} counts what the paused peer has not read`);
  const drained = once(server, 'drain');
  let received = 0;
  client.on('message', () => { received++; });
  client.resume();
  await drained;
  while (received < sent) await tick();
  t.equal(received, sent, 'every message arrived after resume');
  client.terminate();
});
