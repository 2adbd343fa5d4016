import t from 'tap';
import {
  parseExtensionHeader as parse, formatExtensionHeader as format, MAX_EXTENSION_OFFERS, MAX_EXTENSION_PARAMS,
} from '../../lib/http/extension-header.js';
import { WebSocketError } from '../../lib/errors.js';

const bad = { code: 'ERR_WS_INVALID_EXTENSION_HEADER' };

t.test('single extension without parameters', async (t) => {
  t.same(parse('permessage-deflate'), [{ name: 'permessage-deflate', params: [] }]);
});

t.test('parameters with and without values, optional whitespace', async (t) => {
  t.same(parse('permessage-deflate; client_max_window_bits; server_max_window_bits=10'), [{
    name: 'permessage-deflate',
    params: [['client_max_window_bits', true], ['server_max_window_bits', '10']],
  }]);
  t.same(parse(' a \t;\tb = 1 ; c ,d '), [
    { name: 'a', params: [['b', '1'], ['c', true]] },
    { name: 'd', params: [] },
  ]);
});

t.test('several extensions and several offers of one extension, order kept', async (t) => {
  const v = 'permessage-deflate; server_max_window_bits=10, permessage-deflate, x-webkit-deflate-frame, foo;bar=baz';
  t.same(parse(v).map((o) => o.name), ['permessage-deflate', 'permessage-deflate', 'x-webkit-deflate-frame', 'foo']);
  t.same(parse(v)[3]!.params, [['bar', 'baz']]);
});

t.test('header lines joined with ", " and empty list elements', async (t) => {
  t.same(parse('a, b').length, 2);
  t.same(parse(',a,, ,b,').map((o) => o.name), ['a', 'b']);
});

t.test('quoted-string values are unquoted; they must be tokens after unquoting', async (t) => {
  t.same(parse('a; b="10"')[0]!.params, [['b', '10']]);
  t.same(parse('a; b="1\\0"')[0]!.params, [['b', '10']], 'quoted-pair');
  t.same(parse('a; b = "x" ; c')[0]!.params, [['b', 'x'], ['c', true]]);
  for (const v of ['a; b="1 0"', 'a; b=""', 'a; b="x,y"', 'a; b="x;y"', 'a; b="x', 'a; b="x\\', 'a; b="\\"x"', 'a; b="x\u0001"']) {
    t.throws(() => parse(v), bad, v);
  }
});

t.test('malformed headers throw', async (t) => {
  const cases = [
    '', '   ', ',', ', ,', ';', 'a;', 'a; ;b', 'a;=1', 'a; b=', 'a; b= ;c', 'a b', 'a; b c', 'a; b=1 2',
    'a; b=1=2', 'a; b=@', '"a"', 'a/b', 'a; b=[x]', 'a\r\n', 'a\nb', 'é', 'a; b=é', 'a;;b', 'a; b="x"y',
  ];
  for (const v of cases) t.throws(() => parse(v), bad, JSON.stringify(v));
  try { parse('a b'); } catch (e) { t.type(e, WebSocketError); t.match((e as Error).message, /position 2/); }
});

t.test('prototype-ish names are plain names', async (t) => {
  const offers = parse('__proto__; constructor=1; __proto__, constructor; toString; hasOwnProperty=x');
  t.same(offers, [
    { name: '__proto__', params: [['constructor', '1'], ['__proto__', true]] },
    { name: 'constructor', params: [['toString', true], ['hasOwnProperty', 'x']] },
  ]);
  t.equal(({} as Record<string, unknown>).constructor, Object, 'Object.prototype untouched');
});

t.test('limits on offers and parameters', async (t) => {
  const many = (n: number) => Array.from({ length: n }, () => 'permessage-deflate').join(', ');
  t.equal(parse(many(MAX_EXTENSION_OFFERS)).length, MAX_EXTENSION_OFFERS);
  t.throws(() => parse(many(MAX_EXTENSION_OFFERS + 1)), { ...bad, message: /more than 64 extension offers/ });
  const params = (n: number) => 'a' + '; p'.repeat(n);
  t.equal(parse(params(MAX_EXTENSION_PARAMS))[0]!.params.length, MAX_EXTENSION_PARAMS);
  t.throws(() => parse(params(MAX_EXTENSION_PARAMS + 1)), { ...bad, message: /parameters/ });
});

t.test('hostile inputs are refused in linear time (no timing: bounded work)', async (t) => {
  // 1 MiB of whitespace, of commas, of one huge token, of a quoted string with escapes.
  const mib = 1 << 20;
  t.throws(() => parse(' '.repeat(mib)), bad);
  t.throws(() => parse(','.repeat(mib)), bad);
  t.same(parse('a'.repeat(mib))[0]!.name.length, mib);
  t.same((parse('a; b="' + '\\a'.repeat(mib / 2) + '"')[0]!.params[0]![1] as string).length, mib / 2);
  t.throws(() => parse('a' + ';'.repeat(mib)), bad);
  t.throws(() => parse('permessage-deflate, '.repeat(5000)), bad, 'thousands of offers');
});

t.test('format', async (t) => {
  t.equal(format([{ name: 'permessage-deflate', params: [['client_max_window_bits', true], ['server_max_window_bits', '10']] }]),
    'permessage-deflate; client_max_window_bits; server_max_window_bits=10');
  t.equal(format([{ name: 'a', params: [] }, { name: 'b', params: [['c', 'x y']] }]), 'a, b; c="x y"');
  t.equal(format([{ name: 'a', params: [['c', 'q"\\']] }]), 'a; c="q\\"\\\\"');
  t.throws(() => format([{ name: 'a b', params: [] }]), bad);
  t.throws(() => format([{ name: 'a', params: [['b;', true]] }]), bad);
  t.throws(() => format([{ name: 'a', params: [['b', 'x\r\ny']] }]), bad);
  const v = 'permessage-deflate; server_no_context_takeover; client_max_window_bits=9, x';
  t.equal(format(parse(v)), v, 'round trip');
});
