// A transport error (here a TCP reset by the peer) reaches an 'error' listener as a WebSocketError
// with code ERR_WS_SOCKET and the socket's own error as `cause`; the wrapper is built without a
// stack of its own (the cause has the one that matters), and Error.stackTraceLimit is left as it was.
import { once } from 'node:events';
import t from 'tap';
import { WebSocketServer } from '../../lib/server/server.js';
import { WebSocketError, withoutStack } from '../../lib/errors.js';
import type { WebSocket } from '../../lib/websocket.js';
import { RawPeer } from '../helpers/raw-peer.js';

t.test('a reset by the peer: ERR_WS_SOCKET with the reset as cause, then close 1006', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', keepAliveInterval: 0 });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  const serverSide = once(wss, 'connection') as Promise<[WebSocket]>;
  const peer = await RawPeer.upgrade(port);
  const [ws] = await serverSide;
  const errors: Error[] = [];
  ws.on('error', (e: Error) => errors.push(e));
  // (events.once would reject on the 'error' event.)
  const closed = new Promise<[number]>((resolve) => ws.on('close', (code: number) => resolve([code])));
  const limit = Error.stackTraceLimit;
  peer.reset();
  const [code] = await closed;
  t.equal(code, 1006);
  t.equal(errors.length, 1, 'one error event');
  const err = errors[0] as WebSocketError;
  t.ok(err instanceof WebSocketError);
  t.equal(err.code, 'ERR_WS_SOCKET');
  t.match(err.message, /^socket error: .*ECONNRESET/);
  t.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNRESET', 'the socket error is the cause');
  t.equal(err.stack, `WebSocketError: ${err.message}`, 'no frames of its own');
  t.equal(Error.stackTraceLimit, limit, 'stackTraceLimit restored');
});

t.test('withoutStack restores stackTraceLimit even when the maker throws', async (t) => {
  const limit = Error.stackTraceLimit;
  t.throws(() => withoutStack(() => { throw new Error('boom'); }), /boom/);
  t.equal(Error.stackTraceLimit, limit);
  const e = withoutStack(() => new Error('x'));
  t.equal(e.stack, 'Error: x');
  t.not(new Error('y').stack, 'Error: y', 'other errors keep their stacks');
});
