// rfcws serve: --broadcast, --origin, -s, what it logs per connection, --tls-cert/--tls-key.
import t from 'tap';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from '../../lib/client/client.js';
import type { HandshakeError } from '../../lib/errors.js';
import { failure } from '../helpers/failure.js';
import { OPENSSL_SKIP, selfSigned, serveCli, stop, tempDir } from './helpers.js';

const quiet = { keepAliveInterval: 0 };

t.test('echo by default: each message goes back to its sender only, with its type', async (t) => {
  const server = await serveCli(t, ['--quiet']);
  t.match(server.out(), /^Echo server listening on ws:\/\//);
  const a = await connect(server.url, quiet);
  const b = await connect(server.url, quiet);
  let bGot = 0;
  b.on('message', () => bGot++);
  a.send(Buffer.from([1, 2, 3]));
  const [data, isBinary] = await once(a, 'message');
  t.same(data, Buffer.from([1, 2, 3]));
  t.equal(isBinary, true);
  // b's own echo arrives after anything the server would have sent it for a's message.
  b.send('mine');
  t.equal(String((await once(b, 'message'))[0]), 'mine');
  t.equal(bGot, 1, 'b got only its own echo');
  a.terminate();
  b.terminate();
  t.equal(await stop(server), 0);
});

t.test('--broadcast: every message goes to every connected client, the sender included', async (t) => {
  const server = await serveCli(t, ['--broadcast', '--quiet']);
  t.match(server.out(), /^Broadcast server listening on ws:\/\//);
  const a = await connect(server.url, quiet);
  const b = await connect(server.url, quiet);
  const atB = once(b, 'message');
  const atA = once(a, 'message');
  a.send('hello room');
  t.equal(String((await atB)[0]), 'hello room', 'the other client gets it');
  t.equal(String((await atA)[0]), 'hello room', 'the sender gets it too');
  const binAtA = once(a, 'message');
  b.send(Buffer.from([0xff]));
  const [data, isBinary] = await binAtA;
  t.same(data, Buffer.from([0xff]));
  t.equal(isBinary, true, 'binary stays binary');
  a.terminate();
  b.terminate();
  await stop(server);
});

t.test('--origin (repeatable): listed origins connect, others and none get 403, the refusal is logged', async (t) => {
  const server = await serveCli(t, ['--origin', 'https://a.test', '--origin', 'https://b.test']);
  t.match(server.out(), /Try it: .* -o https:\/\/a\.test/, 'the hint sends an allowed Origin');
  for (const origin of ['https://a.test', 'https://b.test']) (await connect(server.url, { ...quiet, origin })).terminate();
  const evil = await failure<HandshakeError>(connect(server.url, { ...quiet, origin: 'https://evil.test' }));
  t.equal(evil.status, 403);
  const none = await failure<HandshakeError>(connect(server.url, quiet));
  t.equal(none.status, 403, 'a list refuses requests without Origin');
  await server.waitOut(/refused 403 127\.0\.0\.1:\d+ path=\/ origin=https:\/\/evil\.test: /);
  await stop(server);
});

t.test('-s/--subprotocol (repeatable): the server speaks these; the first offered one it speaks wins', async (t) => {
  const server = await serveCli(t, ['-s', 'chat', '--subprotocol', 'json', '--quiet']);
  t.equal((await connect(server.url, { ...quiet, protocols: ['json'] })).protocol, 'json');
  t.equal((await connect(server.url, { ...quiet, protocols: ['xml', 'chat', 'json'] })).protocol, 'chat');
  t.equal((await connect(server.url, { ...quiet, protocols: ['xml'] })).protocol, '', 'none in common: no subprotocol');
  await stop(server);
});

t.test('each connection is logged with peer, path, origin, subprotocol and extensions', async (t) => {
  const server = await serveCli(t, ['-s', 'chat']);
  const ws = await connect(`${server.url}room?x=1`, { ...quiet, protocols: ['chat'], origin: 'https://o.test', perMessageDeflate: true });
  await server.waitOut(/open {2}127\.0\.0\.1:\d+ path=\/room\?x=1 origin=https:\/\/o\.test protocol=chat extensions="permessage-deflate" http=1\.1\n/);
  const plain = await connect(server.url, { ...quiet, perMessageDeflate: false });
  await server.waitOut(/open {2}127\.0\.0\.1:\d+ path=\/ http=1\.1\n/);
  ws.close(4000, 'bye');
  await server.waitOut(/close 127\.0\.0\.1:\d+ code=4000 reason="bye" clean=true/);
  plain.terminate();
  await stop(server);
});

t.test('--tls-cert/--tls-key: serves wss:// and says how to trust the certificate', { skip: OPENSSL_SKIP }, async (t) => {
  const pair = selfSigned(tempDir(t));
  const server = await serveCli(t, ['--tls-cert', pair.cert, '--tls-key', pair.key, '--quiet']);
  t.match(server.url, /^wss:\/\/127\.0\.0\.1:\d+\/$/);
  t.ok(server.out().includes(`Try it: node dist/lib/cli.js connect ${server.url} --ca ${pair.cert}`));
  const ws = await connect(server.url, { ...quiet, tls: { ca: readFileSync(pair.cert) } });
  ws.send('over tls');
  t.equal(String((await once(ws, 'message'))[0]), 'over tls');
  ws.terminate();
  await stop(server);
});
