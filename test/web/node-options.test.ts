// Issue 11: an invalid Node-only option throws a TypeError in the constructor (the option's
// error as `cause`), for WebSocket and WebSocketStream alike, instead of an error + close 1006;
// nothing is dialled. Valid options still dial.
import { once } from 'node:events';
import * as net from 'node:net';
import t from 'tap';
import { InvalidArgumentError } from '../../lib/errors.js';
import { WebSocket, WebSocketStream } from '../../lib/web/index.js';

const BAD: Array<[string, Record<string, unknown>]> = [
  ['a header value with CR/LF', { headers: { 'x-a': 'one\r\ntwo' } }],
  ['a header name that is not a token', { headers: { 'bad name': 'x' } }],
  ['a handshake field in headers', { headers: { 'Sec-WebSocket-Key': 'x' } }],
  ['a negative maxPayload', { maxPayload: -1 }],
  ['a bad handshakeTimeout', { handshakeTimeout: 0 }],
  ['a bad http mode', { http: '3' }],
  ['bad permessage-deflate parameters', { perMessageDeflate: { serverMaxWindowBits: 99 } }],
  ['a signal that is not an AbortSignal', { signal: 'no' }],
];

t.test('invalid Node-only options throw TypeError synchronously; no socket is opened', async (t) => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  let dialled = 0;
  server.on('connection', (s) => { dialled++; s.destroy(); });
  const url = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  for (const [what, options] of BAD) {
    for (const [name, make] of [
      ['WebSocket', () => new WebSocket(url, options as never)],
      ['WebSocketStream', () => new WebSocketStream(url, options as never)],
    ] as const) {
      let err: unknown = null;
      try { make(); } catch (e) { err = e; }
      t.type(err, TypeError, `${name}: ${what}`);
      // WebSocketStream's `signal` is the standard's own member: a plain WebIDL TypeError.
      if (name === 'WebSocket' || !('signal' in options)) t.type((err as TypeError).cause, InvalidArgumentError, `${name}: ${what}: the cause is the option's error`);
    }
  }
  await new Promise((r) => setTimeout(r, 50));
  t.equal(dialled, 0, 'nothing was dialled');
  // Still SyntaxError DOMExceptions for the standard's own arguments.
  t.throws(() => new WebSocket(url, { protocols: ['a b'] }), { name: 'SyntaxError' });
  // A valid option set dials.
  const ws = new WebSocket(url, { headers: { 'x-ok': 'fine' }, maxPayload: 1024 });
  await new Promise((resolve) => { ws.onclose = resolve; });
  t.equal(dialled, 1);
});
