import t from 'tap';
import { InvalidArgumentError, UpgradeRejection } from '../../lib/errors.js';
import { HeaderList } from '../../lib/http/headers.js';
import type { HeaderField } from '../../lib/http/head-parser.js';
import { http1Response, readHttp1Upgrade, validateUpgrade, type ValidateOptions } from '../../lib/handshake/http1.js';
import { resolveUpgradePolicy } from '../../lib/handshake/negotiate.js';
import { buildUpgradeRequest } from '../../lib/handshake/request.js';

const BASE: HeaderField[] = [
  ['Host', 'example.com'],
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
  ['Sec-WebSocket-Version', '13'],
];
const OPTS: ValidateOptions = { paths: null, parseExtensions: false };

function input(headers: HeaderField[], over: { method?: string; target?: string; httpVersion?: string } = {}) {
  return { method: 'GET', target: '/', httpVersion: '1.1', ...over, headers: new HeaderList(headers) };
}

function without(name: string, extra: HeaderField[] = []): HeaderField[] {
  return [...BASE.filter(([n]) => n !== name), ...extra];
}

function rejection(fn: () => unknown): UpgradeRejection {
  try {
    fn();
  } catch (err) {
    if (err instanceof UpgradeRejection) return err;
    throw err;
  }
  throw new Error('not rejected');
}

t.test('accepts the RFC 6455 example request', async (t) => {
  const v = validateUpgrade(input(BASE, { target: '/chat?x=1' }), OPTS);
  t.same(v, { key: 'dGhlIHNhbXBsZSBub25jZQ==', path: '/chat', protocols: [], extensions: [] });
});

t.test('token lists are case-insensitive and may hold other tokens', async (t) => {
  const headers: HeaderField[] = [
    ['Host', 'example.com'],
    ['upgrade', 'WebSocket'],
    ['CONNECTION', 'keep-alive'],
    ['connection', 'UPGRADE'],
    ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
    ['Sec-WebSocket-Version', '13'],
  ];
  const v = validateUpgrade(input(headers), OPTS);
  t.equal(v.key, 'dGhlIHNhbXBsZSBub25jZQ==');
});

t.test('Content-Length: 0 is not a body', async (t) => {
  t.equal(validateUpgrade(input([...BASE, ['Content-Length', '0']]), OPTS).path, '/');
});

t.test('absolute-form target gives its path', async (t) => {
  const v = validateUpgrade(input(BASE, { target: 'http://example.com/a/b?q' }), { paths: new Set(['/a/b']), parseExtensions: false });
  t.equal(v.path, '/a/b');
});

t.test('subprotocols in client order, several header lines joined', async (t) => {
  const v = validateUpgrade(input([...BASE, ['Sec-WebSocket-Protocol', 'b, a'], ['Sec-WebSocket-Protocol', 'c']]), OPTS);
  t.same(v.protocols, ['b', 'a', 'c']);
});

t.test('each failure maps to its status', async (t) => {
  const cases: Array<[string, () => unknown, number, Record<string, string>]> = [
    ['POST', () => validateUpgrade(input(BASE, { method: 'POST' }), OPTS), 405, { Allow: 'GET' }],
    ['HTTP/1.0', () => validateUpgrade(input(BASE, { httpVersion: '1.0' }), OPTS), 505, {}],
    ['HTTP/2.0', () => validateUpgrade(input(BASE, { httpVersion: '2.0' }), OPTS), 505, {}],
    ['no Host', () => validateUpgrade(input(without('Host')), OPTS), 400, {}],
    ['two Hosts', () => validateUpgrade(input([...BASE, ['host', 'b']]), OPTS), 400, {}],
    ['empty Host', () => validateUpgrade(input(without('Host', [['Host', '']])), OPTS), 400, {}],
    ['asterisk target', () => validateUpgrade(input(BASE, { target: '*' }), OPTS), 400, {}],
    ['unknown path', () => validateUpgrade(input(BASE, { target: '/nope' }), { paths: new Set(['/ws']), parseExtensions: false }), 404, {}],
    ['no Upgrade', () => validateUpgrade(input(without('Upgrade')), OPTS), 426, { Upgrade: 'websocket' }],
    ['Upgrade: h2c', () => validateUpgrade(input(without('Upgrade', [['Upgrade', 'h2c']])), OPTS), 426, { Upgrade: 'websocket' }],
    ['no Connection', () => validateUpgrade(input(without('Connection')), OPTS), 400, {}],
    ['Connection: keep-alive', () => validateUpgrade(input(without('Connection', [['Connection', 'keep-alive']])), OPTS), 400, {}],
    ['no version', () => validateUpgrade(input(without('Sec-WebSocket-Version')), OPTS), 426, { Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' }],
    ['version 8', () => validateUpgrade(input(without('Sec-WebSocket-Version', [['Sec-WebSocket-Version', '8']])), OPTS), 426, { Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' }],
    ['two versions', () => validateUpgrade(input([...BASE, ['Sec-WebSocket-Version', '13']]), OPTS), 426, { Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' }],
    ['no key', () => validateUpgrade(input(without('Sec-WebSocket-Key')), OPTS), 400, {}],
    ['short key', () => validateUpgrade(input(without('Sec-WebSocket-Key', [['Sec-WebSocket-Key', 'AAAA']])), OPTS), 400, {}],
    ['two keys', () => validateUpgrade(input([...BASE, ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']]), OPTS), 400, {}],
    ['two Origins', () => validateUpgrade(input([...BASE, ['Origin', 'http://a'], ['Origin', 'http://b']]), OPTS), 400, {}],
    ['a body', () => validateUpgrade(input([...BASE, ['Content-Length', '5']]), OPTS), 400, {}],
    ['chunked body', () => validateUpgrade(input([...BASE, ['Transfer-Encoding', 'chunked']]), OPTS), 400, {}],
    ['bad subprotocol', () => validateUpgrade(input([...BASE, ['Sec-WebSocket-Protocol', 'a b']]), OPTS), 400, {}],
  ];
  for (const [name, fn, status, headers] of cases) {
    const r = rejection(fn);
    t.equal(r.status, status, name);
    t.same(r.headers, headers, `${name}: headers`);
  }
});

t.test('a 100k-space subprotocol header is handled in linear time', async (t) => {
  const spaces = ' '.repeat(100_000);
  const v = validateUpgrade(input([...BASE, ['Sec-WebSocket-Protocol', `${spaces}chat${spaces},${spaces}x${spaces}`]]), OPTS);
  t.same(v.protocols, ['chat', 'x']);
  t.equal(rejection(() => validateUpgrade(input([...BASE, ['Sec-WebSocket-Protocol', `a${spaces}b`]]), OPTS)).status, 400);
});

t.test('readHttp1Upgrade: the neutral request, with the policy deciding path and extension parsing', async (t) => {
  const headers: HeaderField[] = [...BASE, ['Origin', 'https://app'], ['Sec-WebSocket-Protocol', 'b, a'], ['Sec-WebSocket-Extensions', 'permessage-deflate']];
  const i = { ...input(headers, { target: '/chat?x=1' }), remoteAddress: '192.0.2.1', remotePort: 4242 };
  const view = buildUpgradeRequest(i);
  const { key, request } = readHttp1Upgrade(i, view, resolveUpgradePolicy({ path: '/chat', perMessageDeflate: true }, 0));
  t.equal(key, 'dGhlIHNhbXBsZSBub25jZQ==');
  t.equal(request.view, view);
  t.same(
    { target: request.target, path: request.path, authority: request.authority, origin: request.origin, protocols: request.protocols,
      extensions: request.extensions, remoteAddress: request.remoteAddress, remotePort: request.remotePort },
    { target: '/chat?x=1', path: '/chat', authority: 'example.com', origin: 'https://app', protocols: ['b', 'a'],
      extensions: [{ name: 'permessage-deflate', params: [] }], remoteAddress: '192.0.2.1', remotePort: 4242 },
  );
  t.same(readHttp1Upgrade(i, view, resolveUpgradePolicy({}, 0)).request.extensions, [], 'deflate off: not parsed');
  t.equal(rejection(() => readHttp1Upgrade(i, view, resolveUpgradePolicy({ path: '/other' }, 0))).status, 404);
  // A plain GET for a path nobody serves: 404 comes before the Upgrade checks, as it always has.
  const plain = input([['Host', 'example.com']], { target: '/nope' });
  t.equal(rejection(() => readHttp1Upgrade(plain, buildUpgradeRequest(plain), resolveUpgradePolicy({ path: '/ws' }, 0))).status, 404);
});

t.test('http1Response: the 101 from a negotiation result; an invalid authorize header is a 500 with cause', async (t) => {
  const result = { protocol: 'chat', extensions: 'permessage-deflate', transform: null, headers: { 'Set-Cookie': 'a=1', Upgrade: 'h2c' }, data: undefined };
  t.equal(http1Response('dGhlIHNhbXBsZSBub25jZQ==', result),
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n' +
    'Sec-WebSocket-Extensions: permessage-deflate\r\nSet-Cookie: a=1\r\n\r\n');
  const r = rejection(() => http1Response('dGhlIHNhbXBsZSBub25jZQ==', { ...result, headers: { 'X-A': 'a\r\nInjected: 1' } }));
  t.equal(r.status, 500);
  t.ok((r as { cause?: unknown }).cause instanceof InvalidArgumentError);
});
