// bufferedAmount as the standard defines it: payload bytes (UTF-8 for text, no framing)
// queued by send() and not yet transmitted; everything sent in the current task counts;
// sends after the closing handshake started are discarded but keep adding to it.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { WebSocket } from '../../lib/web/index.js';
import { OP } from '../helpers/frames.js';
import { ScriptedServer } from '../helpers/raw-server.js';
import { echoServer, record, until } from './helpers.js';

t.test('exact counts while the server does not read, growing after close() starts, kept after the close', async (t) => {
  const server = await ScriptedServer.listen();
  t.teardown(() => server.close());
  const ws = new WebSocket(server.url);
  const { peer } = await server.accept();
  peer.stopReading();
  await new Promise((r) => (ws.onopen = r));
  t.equal(ws.bufferedAmount, 0);
  ws.send('hello');
  t.equal(ws.bufferedAmount, 5, 'a string: its UTF-8 bytes');
  ws.send('é');
  t.equal(ws.bufferedAmount, 7, 'é is 2 bytes');
  ws.send(new ArrayBuffer(1000));
  t.equal(ws.bufferedAmount, 1007, 'an ArrayBuffer: its length, no frame header');
  ws.send(new Uint8Array(new ArrayBuffer(100), 10, 20));
  t.equal(ws.bufferedAmount, 1027, 'a view: its length only');
  ws.send(new Blob(['0123456789']));
  t.equal(ws.bufferedAmount, 1037, 'a Blob: its size, before it is read');
  const big = 16 * 1024 * 1024;
  ws.send(new Uint8Array(big));
  const total = 1037 + big;
  t.equal(ws.bufferedAmount, total, '16 MiB more, all in this task');
  // The kernel takes what it can; the server reads nothing, so most of it stays queued.
  await new Promise((r) => setTimeout(r, 50));
  const later = ws.bufferedAmount;
  t.ok(later > 0 && later <= total, `still queued: ${later} of ${total}`);
  ws.close(1000);
  t.equal(ws.readyState, WebSocket.CLOSING);
  ws.send('abc');
  t.equal(ws.bufferedAmount, later + 3, 'a send after close() adds its bytes and does not throw');
  ws.send(new Blob(['xy']));
  t.equal(ws.bufferedAmount, later + 5);

  const { closed } = record(ws);
  peer.startReading();
  t.equal(await peer.untilClose(), 1000, 'everything sent before close() arrives, then the close frame');
  const received = peer.frames.filter((f) => f.opcode !== OP.CLOSE).map((f) => f.payload.length);
  t.same(received, [5, 2, 1000, 20, 10, big], 'the six messages sent before close(), none after');
  await peer.send({ opcode: OP.CLOSE, payload: Buffer.from([0x03, 0xe8]) });
  peer.end();
  await closed;
  t.equal(ws.bufferedAmount, 5, 'after the close only the discarded bytes remain, for good');
  ws.send(new Uint8Array(7));
  t.equal(ws.bufferedAmount, 12, 'and a send when CLOSED adds to it, without throwing');
});

t.test('back to 0 once everything is transmitted', async (t) => {
  const { url } = await echoServer(t);
  const ws = new WebSocket(url);
  await new Promise((r) => (ws.onopen = r));
  ws.send(new Uint8Array(4 * 1024 * 1024));
  t.equal(ws.bufferedAmount, 4 * 1024 * 1024);
  await new Promise((r) => (ws.onmessage = r));
  await until(() => ws.bufferedAmount === 0);
  t.equal(ws.bufferedAmount, 0);
  const { closed } = record(ws);
  ws.close();
  await closed;
});

t.test('with permessage-deflate: a message counts its payload size until it has left, not its compressed size', async (t) => {
  const { connections, url } = await echoServer(t, { perMessageDeflate: true });
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  await new Promise((r) => (ws.onopen = r));
  t.match(ws.extensions, /permessage-deflate/, 'compression negotiated');
  const server = connections[0]!;
  server.pause();
  // About 2:1 compressible (16 symbols), so the compressed bytes are far fewer than the payload
  // and still far more than the loopback socket buffers hold while the server reads nothing.
  const one = randomBytes(1024 * 1024);
  for (let i = 0; i < one.length; i++) one[i] = 0x61 + (one[i]! & 15);
  const count = 48;
  for (let i = 0; i < count; i++) ws.send(one);
  const total = count * one.length;
  t.equal(ws.bufferedAmount, total, 'all of it, in this task');
  // Let every compression finish and the kernel take what it can.
  await new Promise((r) => setTimeout(r, 1000));
  // Messages the kernel took whole have left; the rest count with their payload size, whole
  // (a count of compressed or framed bytes would not be a multiple of the message size).
  const queued = ws.bufferedAmount;
  t.equal(queued % one.length, 0, `whole messages' payload sizes: ${queued}`);
  t.ok(queued >= total / 2, `most of it is still queued (${queued} of ${total}): the socket buffers hold far less`);
  const echoed: number[] = [];
  ws.onmessage = (e) => echoed.push((e.data as ArrayBuffer).byteLength);
  server.resume();
  await until(() => echoed.length === count);
  t.same(echoed, Array(count).fill(one.length), 'every message arrives whole');
  await until(() => ws.bufferedAmount === 0);
  t.equal(ws.bufferedAmount, 0, 'back to 0 once everything has left');
  const { closed } = record(ws);
  ws.close();
  await closed;
});
