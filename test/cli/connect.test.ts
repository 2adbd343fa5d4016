// rfcws connect through pipes: stdin lines out, one received message per stdout line, -x and
// --wait, --show-headers for a 101 and for a refusal, --binary-out, --no-deflate, --max-payload.
import t from 'tap';
import { once } from 'node:events';
import { WebSocketServer, type ServerOptions } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { run, type Test } from './helpers.js';

interface Seen {
  messages: string[];
  close: Promise<[number, string]>;
  extensions: string[];
}

/** A library server on 127.0.0.1; `onConnection` decides what it does (echo by default). */
async function server(t: Test, options: ServerOptions = {}, onConnection?: (ws: WebSocket) => void): Promise<{ url: string; seen: Seen }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', keepAliveInterval: 0, perMessageDeflate: true, ...options });
  let closed!: (v: [number, string]) => void;
  const seen: Seen = { messages: [], close: new Promise((r) => (closed = r)), extensions: [] };
  wss.on('connection', (ws) => {
    seen.extensions.push(ws.extensions);
    ws.on('close', (code, reason) => closed([code, reason]));
    ws.on('message', (data, isBinary) => seen.messages.push(isBinary ? data.toString('hex') : data.toString()));
    if (onConnection) onConnection(ws);
    else ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo:${data}`, { binary: isBinary }));
  });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  return { url: `ws://127.0.0.1:${port}/`, seen };
}

t.test('piped: each stdin line is a text message; the end of stdin closes with 1000, exit 0; replies one per line, unmarked', async (t) => {
  const { url, seen } = await server(t);
  const r = run(t, ['connect', url]);
  r.child.stdin!.end('hi\n\nthere\n');
  t.equal(await r.exited, 0);
  t.same(seen.messages, ['hi', '', 'there'], 'every line, the empty one too');
  t.same(await seen.close, [1000, '']);
  t.equal(r.out(), 'echo:hi\necho:\necho:there\n', 'no prompt, no marker, no colour');
  t.match(r.err(), /^connected to ws:\/\/127\.0\.0\.1:\d+\/ \(extensions permessage-deflate\)\nclosed: code=1000 clean=true\n$/);
});

t.test('piped out: binary messages as hex lines, or --binary-out raw bytes with nothing added', async (t) => {
  const push = (ws: WebSocket): void => {
    ws.send('text');
    ws.send(Buffer.from([0x00, 0x0a, 0xff]));
    ws.close(1000, 'done');
  };
  const { url } = await server(t, {}, push);
  const lines = run(t, ['connect', url]);
  t.equal(await lines.exited, 0, 'the server closing cleanly is exit 0');
  t.equal(lines.out(), 'text\n000aff\n');
  t.match(lines.err(), /closed: code=1000 reason="done" clean=true/);
  const raw = run(t, ['connect', url, '--binary-out'], { bytes: true });
  t.equal(await raw.exited, 0);
  t.same(Buffer.from(raw.out(), 'latin1'), Buffer.concat([Buffer.from('text'), Buffer.from([0x00, 0x0a, 0xff])]));
});

t.test('-x: sends, prints the first reply only, closes with 1000, exit 0; stdin is not read', async (t) => {
  const twice = (ws: WebSocket): void => {
    ws.on('message', (data) => {
      ws.send(`1:${data}`);
      ws.send(`2:${data}`);
    });
  };
  const { url, seen } = await server(t, {}, twice);
  const r = run(t, ['connect', url, '-x', 'hello']);
  t.equal(await r.exited, 0);
  t.equal(r.out(), '1:hello\n');
  t.same(seen.messages, ['hello']);
  t.same(await seen.close, [1000, '']);
});

t.test('-x repeated and --wait: every message sent in order, every reply in the window printed', async (t) => {
  const twice = (ws: WebSocket): void => {
    ws.on('message', (data) => {
      ws.send(`1:${data}`);
      ws.send(`2:${data}`);
    });
  };
  const { url, seen } = await server(t, {}, twice);
  const r = run(t, ['connect', url, '-x', 'a', '--execute', 'b', '--wait', '500']);
  t.equal(await r.exited, 0);
  t.equal(r.out(), '1:a\n2:a\n1:b\n2:b\n');
  t.same(seen.messages, ['a', 'b']);
  t.same(await seen.close, [1000, '']);
});

t.test('--show-headers: the 101 status line and headers on stderr, as received', async (t) => {
  const { url } = await server(t, { protocols: ['chat'] });
  const r = run(t, ['connect', url, '--show-headers', '-s', 'chat', '-x', 'x']);
  t.equal(await r.exited, 0);
  t.equal(r.out(), 'echo:x\n');
  const err = r.err();
  t.match(err, /^HTTP\/1\.1 101 Switching Protocols\n/);
  t.match(err, /\nUpgrade: websocket\n/);
  t.match(err, /\nSec-WebSocket-Accept: [A-Za-z0-9+/]{27}=\n/);
  t.match(err, /\nSec-WebSocket-Protocol: chat\n/);
  t.match(err, /\nSec-WebSocket-Extensions: permessage-deflate\n\nconnected to /, 'a blank line ends the head');
});

t.test('a refusal: one line with status and body; --show-headers adds the status line, headers and body', async (t) => {
  const { url } = await server(t, {
    authorize: async () => ({ accept: false, status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="t"' }, body: 'token required\nsecond line\n' }),
  });
  const plain = run(t, ['connect', url]);
  t.equal(await plain.exited, 1);
  t.equal(plain.err(), 'rfcws: The server refused the WebSocket upgrade with 401 Unauthorized (expected 101): token required\n');
  const shown = run(t, ['connect', url, '--show-headers']);
  t.equal(await shown.exited, 1);
  const err = shown.err();
  t.match(err, /^HTTP\/1\.1 401 Unauthorized\n/);
  t.match(err, /\nwww-authenticate: Bearer realm="t"\n/);
  t.match(err, /\n\ntoken required\nsecond line\nrfcws: The server refused the WebSocket upgrade with 401 Unauthorized/);
  t.equal(shown.out(), '');
});

t.test('--no-deflate offers no compression; --max-payload closes a larger message with 1009', async (t) => {
  const big = (ws: WebSocket): void => {
    ws.on('message', () => ws.send('0123456789A'));
  };
  const { url, seen } = await server(t, {}, big);
  const r = run(t, ['connect', url, '--no-deflate', '--max-payload', '10', '-x', 'go']);
  t.equal(await r.exited, 1, 'a failed connection is exit 1');
  t.same(seen.extensions, ['']);
  t.equal((await seen.close)[0], 1009);
  t.match(r.err(), /closed: code=1009 .*clean=false\n$/);
});

t.test('a closed stdout reader ends the session quietly', async (t) => {
  const flood = (ws: WebSocket): void => {
    const more = (): void => {
      while (ws.readyState === ws.OPEN && ws.send('x'.repeat(1000))) ;
      if (ws.readyState === ws.OPEN) ws.once('drain', more);
    };
    more();
  };
  const { url } = await server(t, {}, flood);
  const r = run(t, ['connect', url]);
  await once(r.child.stdout!, 'data');
  r.child.stdout!.destroy();
  t.equal(await r.exited, 0);
});

t.test('piped, SIGINT (Ctrl-C) closes with 1000 and exits 0 once the close completes', async (t) => {
  const { url, seen } = await server(t);
  const r = run(t, ['connect', url]);
  await r.waitErr(/connected to/);
  r.child.kill('SIGINT');
  t.same(await seen.close, [1000, '']);
  t.equal(await r.exited, 0);
  t.match(r.err(), /closing with 1000 \(Ctrl-C again to quit at once\)\nclosed: code=1000 clean=true\n$/);
});

t.test('piped --wait: the close waits after the end of stdin, so a late reply is still printed', async (t) => {
  const late = (ws: WebSocket): void => {
    ws.on('message', (data) => setImmediate(() => ws.send(`late:${data}`)));
  };
  const { url, seen } = await server(t, {}, late);
  const r = run(t, ['connect', url, '--wait', '500']);
  r.child.stdin!.end('hi\n');
  t.equal(await r.exited, 0);
  t.equal(r.out(), 'late:hi\n');
  t.same(await seen.close, [1000, '']);
});
