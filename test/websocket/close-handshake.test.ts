// Issue 2, closing handshake over real sockets, both roles: half-close (a side that
// sent its close keeps receiving until the peer's close), the client closing TCP
// when the server does not, the close timeout, and what the user sees.
import t from 'tap';
import type * as net from 'node:net';
import { once } from 'node:events';
import { WebSocket, type WebSocketOptions } from '../../lib/websocket.js';
import { cframe, closeCodeIn, closePayload, decodeFrames, sframe } from '../helpers/frames.js';
import { closed, socketPair, wsOver } from '../helpers/pair.js';
import { readUntil } from '../helpers/raw-peer.js';

function make(role: 'server' | 'client', socket: net.Socket, options: WebSocketOptions = {}): WebSocket {
  return wsOver(role, socket, options);
}

function tcpClosed(socket: net.Socket): Promise<void> {
  // A paused raw socket would never see the FIN (and would not keep the loop alive).
  socket.resume();
  return socket.closed ? Promise.resolve() : once(socket, 'close').then(() => undefined);
}

t.test('half-close, server role: after its close the server still delivers messages until the client close', async (t) => {
  const { accepted, dialed, close } = await socketPair();
  t.teardown(close);
  const server = make('server', accepted);
  const messages: string[] = [];
  server.on('message', (d: Buffer) => messages.push(d.toString()));
  const done = closed(server);
  await new Promise((r) => setImmediate(r));
  const ourClose = readUntil(dialed, (b) => b.length >= 4);
  server.close(4000, '');
  t.same([...(await ourClose)], [0x88, 0x02, 0x0f, 0xa0], 'the server close went out');
  t.equal(server.readyState, WebSocket.CLOSING);
  t.equal(server.send('late'), false, 'no data frames after our close');
  // The client was still sending when the close crossed: its messages must not be lost.
  dialed.write(Buffer.concat([cframe({ opcode: 0x1, payload: 'in flight 1' }), cframe({ opcode: 0x2, payload: 'in flight 2' })]));
  while (messages.length < 2) await once(server, 'message');
  t.same(messages, ['in flight 1', 'in flight 2']);
  t.equal(server.readyState, WebSocket.CLOSING, 'still closing: the peer has not answered yet');
  dialed.write(cframe({ opcode: 0x8, payload: closePayload(4000) }));
  t.same(await done, { code: 4000, reason: '', wasClean: true });
  await tcpClosed(dialed);
  t.equal(messages.length, 2);
});

t.test('half-close, client role: after its close the client still delivers messages until the server close', async (t) => {
  const { accepted, dialed, close } = await socketPair();
  t.teardown(close);
  const client = make('client', dialed);
  const messages: string[] = [];
  client.on('message', (d: Buffer) => messages.push(d.toString()));
  const done = closed(client);
  await new Promise((r) => setImmediate(r));
  const ourClose = readUntil(accepted, (b) => b.length >= 10);
  client.close(1000, 'ok');
  const frame = decodeFrames(await ourClose).frames[0]!;
  t.same([frame.fin, frame.rsv, frame.opcode], [true, 0, 0x8]);
  t.same(frame.payload, closePayload(1000, 'ok'), 'the (masked) client close went out');
  accepted.write(Buffer.concat([sframe({ opcode: 0x1, payload: 'late 1' }), sframe({ opcode: 0x1, payload: 'late 2' })]));
  while (messages.length < 2) await once(client, 'message');
  t.same(messages, ['late 1', 'late 2']);
  t.equal(client.readyState, WebSocket.CLOSING);
  accepted.write(sframe({ opcode: 0x8, payload: closePayload(1000, 'srv') }));
  accepted.end();
  t.same(await done, { code: 1000, reason: 'srv', wasClean: true });
});

t.test('client role: the peer close is echoed with its code, and the client closes TCP when the server does not', async (t) => {
  const { accepted, dialed, close } = await socketPair();
  t.teardown(close);
  // A close timeout far longer than the test: only the client's short TCP wait can close the socket.
  const client = make('client', dialed, { closeTimeout: 120_000 });
  const done = closed(client);
  await new Promise((r) => setImmediate(r));
  const echo = readUntil(accepted, (b) => b.length >= 8);
  accepted.write(sframe({ opcode: 0x8, payload: closePayload(4321, 'bye') }));
  const frame = decodeFrames(await echo).frames[0]!;
  t.same([frame.fin, frame.rsv, frame.opcode], [true, 0, 0x8]);
  t.same(frame.payload, closePayload(4321), 'echo carries the peer code, masked');
  // The server never closes TCP (nor sends FIN): the client must.
  await tcpClosed(accepted);
  t.same(await done, { code: 4321, reason: 'bye', wasClean: true });
});

t.test('client role: after the closing handshake the client leaves the TCP close to the server', async (t) => {
  const { accepted, dialed, close } = await socketPair();
  t.teardown(close);
  const client = make('client', dialed, { closeTimeout: 120_000 });
  const done = closed(client);
  await new Promise((r) => setImmediate(r));
  let clientFinBeforeOurs = false;
  let weEnded = false;
  accepted.on('end', () => {
    if (!weEnded) clientFinBeforeOurs = true;
  });
  const echo = readUntil(accepted, (b) => b.length >= 6);
  accepted.write(sframe({ opcode: 0x8, payload: closePayload(1000) }));
  await echo;
  // Give a client that wrongly closes at once every chance to do so before the server does.
  await new Promise((r) => setTimeout(r, 100));
  weEnded = true;
  accepted.end();
  await tcpClosed(accepted);
  t.equal(clientFinBeforeOurs, false, 'the server sent the first FIN');
  t.same(await done, { code: 1000, reason: '', wasClean: true });
});

t.test('client role, client-initiated: server echoes but keeps TCP open, the client closes it', async (t) => {
  const { accepted, dialed, close } = await socketPair();
  t.teardown(close);
  const client = make('client', dialed, { closeTimeout: 120_000 });
  const done = closed(client);
  await new Promise((r) => setImmediate(r));
  const ourClose = readUntil(accepted, (b) => b.length >= 8);
  client.close(1000);
  await ourClose;
  accepted.write(sframe({ opcode: 0x8, payload: closePayload(1000) }));
  await tcpClosed(accepted);
  t.same(await done, { code: 1000, reason: '', wasClean: true });
});

t.test('client role: a server that never answers our close is dropped after closeTimeout (1006, not clean)', async (t) => {
  const { accepted, dialed, close } = await socketPair();
  t.teardown(close);
  const client = make('client', dialed, { closeTimeout: 150 });
  const done = closed(client);
  await new Promise((r) => setImmediate(r));
  client.close(1000, 'x');
  await tcpClosed(accepted);
  t.same(await done, { code: 1006, reason: '', wasClean: false });
  t.ok(dialed.destroyed, 'the socket was destroyed');
});

t.test('server role: a client that answers the close but never closes TCP is dropped after closeTimeout', async (t) => {
  const { accepted, dialed, close } = await socketPair();
  t.teardown(close);
  // The raw client keeps its side open after the server's FIN (half-open).
  (dialed as net.Socket & { allowHalfOpen: boolean }).allowHalfOpen = true;
  dialed.on('end', () => {});
  const server = make('server', accepted, { closeTimeout: 150 });
  const done = closed(server);
  await new Promise((r) => setImmediate(r));
  server.close(1000);
  await readUntil(dialed, (b) => b.length >= 4);
  dialed.write(cframe({ opcode: 0x8, payload: closePayload(1000) }));
  // Handshake complete, so the close is clean even though the destroy was forced.
  t.same(await done, { code: 1000, reason: '', wasClean: true });
  t.ok(accepted.destroyed);
});

t.test('the user sees the failure code, the reason and wasClean=false when the peer breaks the protocol', async (t) => {
  for (const role of ['server', 'client'] as const) {
    const { accepted, dialed, close } = await socketPair();
    t.teardown(close);
    const ours = role === 'server' ? accepted : dialed;
    const raw = role === 'server' ? dialed : accepted;
    const ws = make(role, ours);
    const errors: Error[] = [];
    ws.on('error', (e) => errors.push(e));
    const done = closed(ws);
    await new Promise((r) => setImmediate(r));
    // A masking violation: unmasked from a client, masked from a server.
    raw.write(role === 'server' ? sframe({ opcode: 0x1, payload: 'unmasked' }) : cframe({ opcode: 0x1, payload: 'masked' }));
    const bytes = await readUntil(raw, () => false);
    const code = closeCodeIn(bytes);
    t.equal(code, 1002, `${role}: close frame with 1002 on the wire`);
    const c = await done;
    t.equal(c.code, 1002, `${role}: close event code`);
    t.ok(c.reason.length > 0, `${role}: close event has a reason (${c.reason})`);
    t.equal(c.wasClean, false, `${role}: not clean`);
    t.equal((errors[0] as { closeCode?: number } | undefined)?.closeCode, 1002, `${role}: error event carries closeCode`);
  }
});
