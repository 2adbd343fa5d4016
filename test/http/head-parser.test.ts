import t from 'tap';
import { HeadParseError, HeadParser, type RequestHead } from '../../lib/http/head-parser.js';
import { SERVER_HEAD_LIMITS, CLIENT_HEAD_LIMITS } from '../../lib/http/limits.js';

const REQUEST =
  'GET /chat?x=1 HTTP/1.1\r\n' +
  'Host: server.example.com\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'X-Empty:\r\n' +
  'X-Spaces: \t a b \t \r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  '\r\n';

function parseAll(chunks: Buffer[], limits = SERVER_HEAD_LIMITS) {
  const parser = new HeadParser('request', limits);
  for (const chunk of chunks) {
    const out = parser.push(chunk);
    if (out !== null) return out;
  }
  return null;
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof HeadParseError) return err.reason;
    throw err;
  }
  return 'ok';
}

function failure(text: string, limits = SERVER_HEAD_LIMITS): string {
  return reasonOf(() => parseAll([Buffer.from(text, 'latin1')], limits));
}

function responseFailure(text: string): string {
  return reasonOf(() => new HeadParser('response', CLIENT_HEAD_LIMITS).push(Buffer.from(text, 'latin1')));
}

t.test('parses a request head in one chunk and returns the bytes after it', async (t) => {
  const out = parseAll([Buffer.concat([Buffer.from(REQUEST), Buffer.from([0x81, 0x80, 1, 2, 3, 4])])]);
  t.ok(out);
  const head = out!.head as RequestHead;
  t.equal(head.method, 'GET');
  t.equal(head.target, '/chat?x=1');
  t.equal(head.httpVersion, '1.1');
  t.same(head.headers, [
    ['Host', 'server.example.com'],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
    ['X-Empty', ''],
    ['X-Spaces', 'a b'],
    ['Sec-WebSocket-Version', '13'],
  ]);
  t.same([...out!.rest], [0x81, 0x80, 1, 2, 3, 4]);
});

t.test('one byte at a time gives the same head', async (t) => {
  const bytes = Buffer.from(REQUEST + 'XY');
  const parser = new HeadParser('request', SERVER_HEAD_LIMITS);
  let out = null;
  let i = 0;
  for (; i < bytes.length && out === null; i++) out = parser.push(bytes.subarray(i, i + 1));
  t.ok(out);
  t.equal(i, REQUEST.length, 'completes on the final LF');
  t.equal(out!.rest.length, 0);
  t.equal((out!.head as RequestHead).headers.length, 7);
  t.equal(parser.size, REQUEST.length);
});

t.test('bare LF line endings and leading empty lines are tolerated', async (t) => {
  const out = parseAll([Buffer.from('\r\n\nGET / HTTP/1.1\nHost: a\n\n')]);
  t.equal((out!.head as RequestHead).headers[0][1], 'a');
});

t.test('malformed heads', async (t) => {
  t.equal(failure('GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n'), 'malformed', 'bare CR');
  t.equal(failure('GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n'), 'malformed', 'obs-fold');
  t.equal(failure('GET / HTTP/1.1\r\nHost : a\r\n\r\n'), 'malformed', 'space before colon');
  t.equal(failure('GET / HTTP/1.1\r\n: a\r\n\r\n'), 'malformed', 'empty name');
  t.equal(failure('GET / HTTP/1.1\r\nNoColon\r\n\r\n'), 'malformed', 'no colon');
  t.equal(failure('GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n'), 'malformed', 'NUL in value');
  t.equal(failure('GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n'), 'malformed', 'DEL in value');
  t.equal(failure('GET  / HTTP/1.1\r\n\r\n'), 'malformed', 'double space');
  t.equal(failure('GET / HTTP/1.1 \r\n\r\n'), 'malformed', 'trailing space');
  t.equal(failure('GET / HTTPS/1.1\r\n\r\n'), 'malformed', 'bad version');
  t.equal(failure('G(T / HTTP/1.1\r\n\r\n'), 'malformed', 'method not a token');
  t.equal(failure('GET /\x80 HTTP/1.1\r\n\r\n'), 'malformed', 'non-ASCII target');
  t.equal(failure('hello\r\n'), 'malformed', 'garbage fails at the first line');
  t.equal(failure('GET / HTTP/1.1\r\nX: a\xffb\r\n\r\n'), 'ok', 'obs-text allowed');
});

t.test('limits', async (t) => {
  const limits = { maxHeadSize: 200, maxHeaders: 3, maxHeaderLineLength: 40 };
  t.equal(failure('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', limits), 'ok');
  t.equal(failure('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n', limits), 'too-many-headers');
  t.equal(failure(`GET / HTTP/1.1\r\nA: ${'x'.repeat(37)}\r\n\r\n`, limits), 'ok', 'exactly 40 bytes');
  t.equal(failure(`GET / HTTP/1.1\r\nA: ${'x'.repeat(38)}\r\n\r\n`, limits), 'line-too-long');
  t.equal(failure(`GET /${'x'.repeat(40)} HTTP/1.1\r\n\r\n`, limits), 'start-line-too-long');
  t.equal(failure(`GET / HTTP/1.1\r\n${`A: ${'x'.repeat(35)}\r\n`.repeat(3)}\r\n`, { ...limits, maxHeadSize: 137 }), 'head-too-large');
  t.equal(failure(`GET / HTTP/1.1\r\n${`A: ${'x'.repeat(35)}\r\n`.repeat(3)}\r\n`, { ...limits, maxHeadSize: 138 }), 'ok', 'head of exactly maxHeadSize');
});

t.test('an endless line fails before it is buffered, even with no LF', async (t) => {
  const parser = new HeadParser('request', SERVER_HEAD_LIMITS);
  parser.push(Buffer.from('GET / HTTP/1.1\r\nX: '));
  const chunk = Buffer.alloc(1024, 0x61);
  let reason = '';
  let pushed = 0;
  try {
    for (; pushed < 100; pushed++) parser.push(chunk);
  } catch (err) {
    reason = (err as HeadParseError).reason;
  }
  t.equal(reason, 'line-too-long');
  t.ok(pushed <= 5, 'stops within the line limit');
});

t.test('head size limit applies across many short lines', async (t) => {
  const parser = new HeadParser('request', { ...SERVER_HEAD_LIMITS, maxHeaders: 100000 });
  parser.push(Buffer.from('GET / HTTP/1.1\r\n'));
  const reason = reasonOf(() => {
    for (let i = 0; i < 10000; i++) parser.push(Buffer.from('A: b\r\n'));
  });
  t.equal(reason, 'head-too-large');
});

t.test('a 100k-space header value and huge lists parse (linear time, generous limits)', async (t) => {
  const limits = { maxHeadSize: 1 << 22, maxHeaders: 100, maxHeaderLineLength: 1 << 22 };
  const spaces = ' '.repeat(100_000);
  const text = `GET / HTTP/1.1\r\nSec-WebSocket-Protocol: a${spaces},${spaces}b${spaces}\r\nX: ${spaces}\r\n\r\n`;
  const out = parseAll([Buffer.from(text)], limits);
  const headers = (out!.head as RequestHead).headers;
  t.equal(headers[0][1], `a${spaces},${spaces}b`);
  t.equal(headers[1][1], '');
});

t.test('response heads', async (t) => {
  const parser = new HeadParser('response', CLIENT_HEAD_LIMITS);
  const out = parser.push(Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00', 'latin1'));
  t.same(out!.head, { httpVersion: '1.1', status: 101, statusText: 'Switching Protocols', headers: [['Upgrade', 'websocket']] });
  t.same([...out!.rest], [0x81, 0x00]);
  const bare = new HeadParser('response', CLIENT_HEAD_LIMITS).push(Buffer.from('HTTP/1.1 404\r\n\r\n'));
  t.equal((bare!.head as { statusText: string }).statusText, '');
  t.equal(responseFailure('HTTP/1.1 2000 OK\r\n'), 'malformed');
  t.equal(responseFailure('SSH-2.0-OpenSSH\r\n'), 'malformed');
  t.equal(responseFailure('\r\n'), 'malformed');
});

t.test('lines read in place: a bare CR is found inside its own line only, whatever follows in the chunk', async (t) => {
  // The CR search is bounded by the line: a CR in a later line (or the frames after the head) is not this line's.
  t.equal(failure('GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n'), 'malformed', 'bare CR in a later line');
  t.equal(failure('GET / HTTP/1.1\nHost: a\nX: b\r\n\r\n'), 'ok', 'bare-LF lines, then CRLF ones');
  const head = parseAll([Buffer.concat([Buffer.from('GET / HTTP/1.1\nHost: a\n\n', 'latin1'), Buffer.from([0x81, 0x0d, 0x0d, 0x0a])])]);
  t.same(head?.head.headers, [['Host', 'a']]);
  t.same([...head!.rest], [0x81, 0x0d, 0x0d, 0x0a], 'bytes after the head, CRs included, are the rest');
  // Thousands of bare-LF blank lines before the request line in one chunk: refused by the size limit, not quadratic.
  t.equal(failure('\n'.repeat(SERVER_HEAD_LIMITS.maxHeadSize + 1) + 'GET / HTTP/1.1\r\n\r\n'), 'head-too-large');
});

t.test('a line split over chunks is joined, then read like a whole one', async (t) => {
  const bytes = Buffer.from(REQUEST, 'latin1');
  const whole = parseAll([bytes]);
  for (const cut of [1, 17, 20, 41, bytes.length - 2, bytes.length - 1]) {
    t.same(parseAll([bytes.subarray(0, cut), bytes.subarray(cut)])?.head, whole?.head, `cut at ${cut}`);
  }
  t.equal(reasonOf(() => parseAll([Buffer.from('GET / HTTP/1.1\r\nX: a\r', 'latin1'), Buffer.from('b\r\n\r\n', 'latin1')])), 'malformed', 'bare CR across a cut');
});
