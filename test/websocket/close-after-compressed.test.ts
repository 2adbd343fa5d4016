// Regression: with permessage-deflate, a peer that sends compressed messages and closes at
// once must get every echo, then our close frame, then TCP close (the FIN used to leave
// while the echoes and the close reply still waited behind the pending compression).
import t from 'tap';
import * as net from 'node:net';
import { once } from 'node:events';
import WS from 'ws';
import { WebSocketServer, connect, type WebSocket } from '../../lib/index.js';
import { FrameDecoder, OP, cframe, closePayload, sframe, type Frame } from '../helpers/frames.js';
import { PeerDeflater, PeerInflater } from '../conformance/deflate.js';
import { acceptFor, onRequestHead } from '../helpers/http.js';
import { RawPeer } from '../helpers/raw-peer.js';

const BIG = Buffer.alloc(100_000, 'a');

async function echoServer(): Promise<{ port: number; server: WebSocketServer }> {
  const server = new WebSocketServer({ host: '127.0.0.1', perMessageDeflate: true, keepAliveInterval: 0 });
  server.on('connection', (ws: WebSocket) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const { port } = await server.listen();
  return { port, server };
}

/** Reads frames until the peer closes TCP. */
function collect(socket: net.Socket, decoder = new FrameDecoder()): Promise<Frame[]> {
  const frames: Frame[] = [];
  socket.on('data', (chunk: Buffer) => frames.push(...decoder.push(chunk)));
  return new Promise((resolve) => socket.once('close', () => resolve(frames)));
}

t.test('ws client: send(big) then close(1000) gets the echo and a clean 1000, 20 of 20', async (t) => {
  const { port, server } = await echoServer();
  t.teardown(() => server.close());
  for (let i = 0; i < 20; i++) {
    const ws = new WS(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
    await once(ws, 'open');
    const got: Buffer[] = [];
    ws.on('message', (data: Buffer) => got.push(data));
    ws.send(BIG.toString());
    ws.close(1000);
    const [code] = (await once(ws, 'close')) as [number];
    t.equal(code, 1000, `try ${i}: clean close code`);
    t.equal(got.length, 1, `try ${i}: the echo arrived`);
    t.ok(got[0]?.equals(BIG), `try ${i}: echo intact`);
  }
});

t.test('server role: 20 compressed messages and a close in one TCP write', async (t) => {
  const { port, server } = await echoServer();
  t.teardown(() => server.close());
  const peer = await RawPeer.upgrade(port, {
    headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover; client_no_context_takeover' },
  });
  t.match(peer.head, /^HTTP\/1\.1 101 [^]*permessage-deflate/);
  const deflater = new PeerDeflater({ noContextTakeover: true });
  const messages: Buffer[] = [];
  for (let i = 0; i < 20; i++) messages.push(Buffer.from(`message ${i} `.repeat(500 + i)));
  const frames: Buffer[] = [];
  for (const m of messages) frames.push(cframe({ opcode: OP.TEXT, rsv: 4, payload: await deflater.compress(m) }));
  frames.push(cframe({ opcode: OP.CLOSE, payload: closePayload(1000) }));
  await peer.write(Buffer.concat(frames));
  await peer.whenClosed();
  const received = peer.frames;
  t.equal(received.length, 21, '20 echoes and a close frame, then TCP close');
  const inflater = new PeerInflater({ noContextTakeover: true });
  for (let i = 0; i < 20; i++) {
    const f = received[i]!;
    t.equal(f.opcode, OP.TEXT, `echo ${i} is text`);
    t.ok((f.rsv === 4 ? await inflater.inflate(f.payload) : f.payload).equals(messages[i]!), `echo ${i} in order and intact`);
  }
  t.equal(received[20]?.opcode, OP.CLOSE, 'the close frame comes last');
  t.equal(received[20]?.payload.readUInt16BE(0), 1000);
});

t.test('client role: 20 compressed messages and a close in one TCP write from the server', async (t) => {
  const messages: Buffer[] = [];
  for (let i = 0; i < 20; i++) messages.push(Buffer.from(`reply ${i} `.repeat(600 + i)));
  const deflater = new PeerDeflater({ noContextTakeover: true });
  const burst: Buffer[] = [];
  for (const m of messages) burst.push(sframe({ opcode: OP.TEXT, rsv: 4, payload: await deflater.compress(m) }));
  burst.push(sframe({ opcode: OP.CLOSE, payload: closePayload(1000) }));
  const raw = net.createServer();
  raw.listen(0, '127.0.0.1');
  await once(raw, 'listening');
  t.teardown(() => raw.close());
  const serverSide = new Promise<Frame[]>((resolve) => {
    raw.once('connection', (socket: net.Socket) => {
      onRequestHead(socket, (_head, key) => {
        const accept = acceptFor(key);
        const done = collect(socket);
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${accept}\r\n` +
            'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\r\n',
        );
        socket.write(Buffer.concat(burst));
        // The client's close frame ends its side; a server closes TCP after that.
        void done.then(resolve);
        socket.on('data', () => undefined);
        setTimeout(() => socket.end(), 500).unref();
      });
    });
  });
  const { port } = raw.address() as net.AddressInfo;
  const ws = await connect(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true, keepAliveInterval: 0 });
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  const [code, , wasClean] = (await once(ws, 'close')) as [number, string, boolean];
  t.equal(code, 1000);
  t.equal(wasClean, true);
  const received = await serverSide;
  t.equal(received.length, 21, '20 echoes and a close frame');
  const inflater = new PeerInflater({ noContextTakeover: true });
  for (let i = 0; i < 20; i++) {
    const f = received[i]!;
    t.equal(f.masked, true);
    t.ok((f.rsv === 4 ? await inflater.inflate(f.payload) : f.payload).equals(messages[i]!), `echo ${i} in order and intact`);
  }
  t.equal(received[20]?.opcode, OP.CLOSE, 'our close frame comes after the echoes');
});
