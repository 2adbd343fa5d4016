// Issue 11, "Node streams": createWebSocketStream() as a Duplex over real sockets: byte and
// object mode (the binary flag kept as Buffer vs string), a slow reader pausing the socket
// (the sender's bufferedAmount grows), writes completing only as the send queue drains, and
// the close mapping (clean close = end, abnormal = error with the code, end()/destroy() close).
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { ConnectionClosedError, InvalidArgumentError } from '../../lib/errors.js';
import { createWebSocketStream } from '../../lib/streams.js';
import type { WebSocket } from '../../lib/websocket.js';
import { serve, type Test } from './setup.js';

async function pair(t: Test, server: Parameters<typeof serve>[1] = {}, client: Parameters<typeof connect>[1] = {}): Promise<{ server: WebSocket; client: WebSocket }> {
  const s = await serve(t, server);
  const accepted = s.next();
  const c = await connect(s.url, { keepAliveInterval: 0, ...client });
  t.teardown(() => c.terminate());
  return { server: await accepted, client: c };
}

async function settle(probe: () => number): Promise<number> {
  let last = -1;
  while (probe() !== last) {
    last = probe();
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

t.test('byte mode: writes go out as binary messages, messages come in as one byte stream; end() closes with 1000', async (t) => {
  const { server, client } = await pair(t);
  const duplex = createWebSocketStream(client);
  const got: Array<[string, boolean]> = [];
  server.on('message', (d: Buffer, isBinary: boolean) => got.push([d.toString(), isBinary]));
  duplex.write('abc');
  duplex.write(Buffer.from('def'));
  server.send('text ');
  server.send(Buffer.from('binary'));
  const chunks: Buffer[] = [];
  duplex.on('data', (c: Buffer) => chunks.push(c));
  while (chunks.length < 2) await once(duplex, 'data');
  t.equal(Buffer.concat(chunks).toString(), 'text binary');
  t.ok(chunks.every((c) => Buffer.isBuffer(c)), 'Buffers, whatever the message type');
  const serverClosed = once(server, 'close');
  const ended = once(duplex, 'end');
  duplex.end();
  const [code] = await serverClosed;
  t.equal(code, 1000);
  t.same(got, [['abc', true], ['def', true]]);
  await ended;
  t.pass('a clean close ends the readable side');
});

t.test('object mode: a text message is a string, a binary one a Buffer; written strings go as text', async (t) => {
  const { server, client } = await pair(t);
  const duplex = createWebSocketStream(client, { objectMode: true });
  const got: Array<[string, boolean]> = [];
  server.on('message', (d: Buffer, isBinary: boolean) => got.push([d.toString(), isBinary]));
  server.send('one');
  server.send(Buffer.from('two'));
  const it = duplex[Symbol.asyncIterator]();
  const a = (await it.next()).value as unknown;
  const b = (await it.next()).value as unknown;
  t.equal(a, 'one');
  t.ok(Buffer.isBuffer(b) && b.toString() === 'two');
  duplex.write('as text');
  duplex.write(Buffer.from('as binary'));
  while (got.length < 2) await once(server, 'message');
  t.same(got, [['as text', false], ['as binary', true]]);
});

t.test('encoding: the readable side decodes to strings', async (t) => {
  const { server, client } = await pair(t);
  const duplex = createWebSocketStream(client, { encoding: 'utf8' });
  server.send(Buffer.from('h\u00e9'));
  t.equal((await once(duplex, 'data'))[0], 'h\u00e9');
});

t.test('a slow reader pauses the socket: the sender\'s bufferedAmount grows; reading delivers everything', async (t) => {
  const { server, client } = await pair(t);
  const duplex = createWebSocketStream(client, { readableObjectMode: true, readableHighWaterMark: 4 });
  const n = 2000;
  const size = 32 * 1024;
  for (let i = 0; i < n; i++) server.send(Buffer.alloc(size, i & 0xff));
  const stuck = await settle(() => server.bufferedAmount);
  t.ok(stuck > 8 << 20, `the server still holds ${(stuck / 2 ** 20).toFixed(1)} of ${(n * size) / 2 ** 20} MiB: the client stopped reading`);
  t.ok(duplex.readableLength <= 5, `the Duplex buffers ${duplex.readableLength} messages (mark 4)`);
  let count = 0;
  for await (const m of duplex) {
    if ((m as Buffer)[0] !== (count & 0xff)) t.fail(`message ${count} out of order`);
    if (++count === n) break;
  }
  t.equal(count, n);
});

t.test('writes wait for the send queue to drain: a peer that stops reading stops the write callbacks', async (t) => {
  const { server, client } = await pair(t, {}, { sendHighWaterMark: 256 * 1024 });
  const duplex = createWebSocketStream(client, { writableHighWaterMark: 64 * 1024 });
  server.pause();
  const n = 1000;
  const size = 64 * 1024;
  let acked = 0;
  let refused = false;
  for (let i = 0; i < n; i++) {
    if (!duplex.write(Buffer.alloc(size, i & 0xff), () => acked++)) refused = true;
  }
  t.ok(refused, 'write() returned false');
  const stuckAt = await settle(() => acked);
  t.ok(stuckAt < n / 2, `${stuckAt} of ${n} writes completed while the peer read nothing`);
  t.ok(client.bufferedAmount >= 256 * 1024, `bufferedAmount ${client.bufferedAmount} is at the mark`);
  t.ok(duplex.writableLength > 0, 'the rest waits in the Duplex');
  let received = 0;
  server.on('message', () => received++);
  server.resume();
  while (received < n) await once(server, 'message');
  await settle(() => acked);
  t.equal(acked, n, 'every write completed once the peer read');
});

t.test('an abnormal close errors the stream with the close code; destroy(err) closes with 1011', async (t) => {
  await t.test('terminate: ConnectionClosedError 1006', async (t) => {
    const { server, client } = await pair(t);
    const duplex = createWebSocketStream(client);
    duplex.resume();
    const errP = once(duplex, 'error');
    server.terminate();
    const [err] = (await errP) as [ConnectionClosedError];
    t.type(err, ConnectionClosedError);
    t.equal(err.closeCode, 1006);
  });
  await t.test('destroy(err): the peer sees 1011; destroy(): 1000', async (t) => {
    for (const [withError, expected] of [[true, 1011], [false, 1000]] as const) {
      const { server, client } = await pair(t);
      const duplex: Duplex = createWebSocketStream(client);
      duplex.on('error', () => {});
      const closed = once(server, 'close');
      const duplexClosed = new Promise((resolve) => duplex.once('close', resolve));
      duplex.destroy(withError ? new Error('app failed') : undefined);
      t.equal((await closed)[0], expected);
      await duplexClosed;
    }
  });
});

t.test('a WebSocket in streamMessages mode is refused', async (t) => {
  const { client } = await pair(t, {}, { streamMessages: true });
  t.throws(() => createWebSocketStream(client), InvalidArgumentError);
});
