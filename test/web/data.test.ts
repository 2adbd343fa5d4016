// Data both ways: strings, ArrayBuffer, views, Blob out; Blob, ArrayBuffer and Buffer in
// (binaryType read when each message is dispatched); order kept across Blob and other sends.
import t from 'tap';
import { WebSocket } from '../../lib/web/index.js';
import { OP } from '../helpers/frames.js';
import { ScriptedServer } from '../helpers/raw-server.js';
import { echoServer, record, until } from './helpers.js';

type Seen = { isBinary: boolean; data: Buffer };

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

async function openWith(t: Test): Promise<{ ws: WebSocket; seen: Seen[] }> {
  const { url, connections } = await echoServer(t);
  const ws = new WebSocket(url);
  t.teardown(() => ws.close());
  await new Promise((r) => (ws.onopen = r));
  const seen: Seen[] = [];
  connections[0]!.on('message', (data, isBinary) => seen.push({ isBinary, data: Buffer.from(data) }));
  return { ws, seen };
}

function nextMessage(ws: WebSocket): Promise<MessageEvent> {
  return new Promise((r) => ws.addEventListener('message', (e) => r(e as MessageEvent), { once: true }));
}

t.test('every kind of send() arrives with its exact bytes and type, in call order (a Blob read asynchronously does not let later sends pass)', async (t) => {
  const { ws, seen } = await openWith(t);
  const ab = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer;
  const big = Buffer.alloc(300_000, 7);
  ws.send('héllo');
  ws.send(new Blob([big, 'tail']));
  ws.send(ab);
  ws.send(new Uint8Array(ab, 2, 3));
  ws.send(new DataView(ab, 6));
  ws.send(new Blob([]));
  ws.send(new Uint16Array([0x0102]));
  ws.send('\ud800x');
  ws.send(42 as unknown as string);
  let echoes = 0;
  ws.onmessage = () => echoes++;
  await until(() => seen.length === 9 && echoes === 9);
  t.same(seen.map((s) => [s.isBinary, s.data.toString('hex')]), [
    [false, Buffer.from('héllo').toString('hex')],
    [true, Buffer.concat([big, Buffer.from('tail')]).toString('hex')],
    [true, '0102030405060708'],
    [true, '030405'],
    [true, '0708'],
    [true, ''],
    [true, Buffer.from(new Uint16Array([0x0102]).buffer).toString('hex')],
    [false, Buffer.from('\ufffdx').toString('hex')],
    [false, Buffer.from('42').toString('hex')],
  ]);
});

t.test("binaryType: 'blob' by default, 'arraybuffer', 'nodebuffer'; other values are ignored; read at dispatch", async (t) => {
  const { ws } = await openWith(t);
  const bytes = Buffer.from([0, 255, 1, 254]);
  let m = nextMessage(ws);
  ws.send(bytes);
  let e = await m;
  t.ok(e.data instanceof Blob, 'a Blob');
  t.same(Buffer.from(await (e.data as Blob).arrayBuffer()), bytes);
  t.equal(e.origin, new URL(ws.url).origin, 'origin is the URL\'s');

  ws.binaryType = 'arraybuffer';
  m = nextMessage(ws);
  ws.send(bytes);
  e = await m;
  t.ok(e.data instanceof ArrayBuffer, 'an ArrayBuffer');
  t.equal((e.data as ArrayBuffer).byteLength, 4, 'exactly the message, not the read buffer around it');
  t.same(Buffer.from(e.data as ArrayBuffer), bytes);

  ws.binaryType = 'nodebuffer';
  m = nextMessage(ws);
  ws.send(bytes);
  e = await m;
  t.ok(Buffer.isBuffer(e.data), 'a Buffer');
  t.same(e.data, bytes);

  ws.binaryType = 'text' as 'blob';
  t.equal(ws.binaryType, 'nodebuffer', 'an invalid value is ignored');

  // Two messages in flight: the type is switched in the first's handler, the second obeys it.
  ws.binaryType = 'blob';
  const kinds: string[] = [];
  const both = new Promise<void>((r) => {
    ws.onmessage = (ev) => {
      kinds.push(ev.data instanceof Blob ? 'blob' : ev.data instanceof ArrayBuffer ? 'arraybuffer' : typeof ev.data);
      ws.binaryType = 'arraybuffer';
      if (kinds.length === 2) r();
    };
  });
  ws.send(bytes);
  ws.send(bytes);
  await both;
  t.same(kinds, ['blob', 'arraybuffer']);
});

t.test('a text message is a string; invalid UTF-8 from the peer fails the connection: error, then close 1006', async (t) => {
  const server = await ScriptedServer.listen();
  t.teardown(() => server.close());
  const ws = new WebSocket(server.url);
  const { peer } = await server.accept();
  const { events, closed } = record(ws);
  await peer.send([{ opcode: OP.TEXT, payload: 'ünïcode ✓' }, { opcode: OP.TEXT, payload: Buffer.from([0x61, 0xc3, 0x28]) }]);
  t.equal(await peer.untilClose(), 1007, 'the client closed with 1007');
  peer.end();
  await closed;
  t.same(events, ['open', 'message ünïcode ✓', 'error', 'close 1006  false']);
});
