// The transport-neutral upgrade negotiation as plain function calls: no sockets,
// no HTTP version. Each rejection status, the order of the checks, subprotocol
// choice, the permessage-deflate answer, authorize's data and headers, and hook
// exceptions turned into 500s that keep the original as `cause`.
import t from 'tap';
import { InvalidArgumentError, UpgradeRejection } from '../../lib/errors.js';
import { PerMessageDeflate } from '../../lib/extensions/permessage-deflate.js';
import { parseExtensionHeader } from '../../lib/http/extension-header.js';
import type { HeaderField } from '../../lib/http/head-parser.js';
import { HeaderList } from '../../lib/http/headers.js';
import {
  negotiateUpgrade, negotiateWithoutHook, readOffers, resolveUpgradePolicy,
  type NegotiationRequest, type UpgradePolicyOptions,
} from '../../lib/handshake/negotiate.js';
import { buildUpgradeRequest } from '../../lib/handshake/request.js';

const MAX_PAYLOAD = 1 << 20;

/** A neutral request, as an adapter of any HTTP version would describe it. */
function request(
  over: { target?: string; headers?: HeaderField[]; protocols?: string[]; extensions?: string } = {},
): NegotiationRequest {
  const target = over.target ?? '/';
  const headers = new HeaderList(over.headers ?? []);
  const view = buildUpgradeRequest({ method: 'GET', target, httpVersion: '1.1', headers, remoteAddress: '192.0.2.1', remotePort: 4242 });
  return {
    target,
    path: view.path,
    authority: 'example.com',
    headers,
    origin: view.origin,
    protocols: over.protocols ?? [],
    extensions: over.extensions === undefined ? [] : parseExtensionHeader(over.extensions),
    remoteAddress: '192.0.2.1',
    remotePort: 4242,
    view,
  };
}

const policy = (options: UpgradePolicyOptions = {}) => resolveUpgradePolicy(options, MAX_PAYLOAD);

async function rejection(promise: Promise<unknown>): Promise<UpgradeRejection> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof UpgradeRejection) return err;
    throw err;
  }
  throw new Error('not rejected');
}

t.test('no policy: accepted with nothing negotiated', async (t) => {
  const r = await negotiateUpgrade(request({ protocols: ['chat'], extensions: 'permessage-deflate' }), policy());
  t.same(r, { protocol: undefined, extensions: '', transform: null, headers: undefined, data: undefined });
});

t.test('each rejection status, message and headers', async (t) => {
  const cases: Array<[string, NegotiationRequest, UpgradePolicyOptions, number, string, Record<string, string>]> = [
    ['path not served', request({ target: '/nope?x=1' }), { path: ['/ws', '/chat'] }, 404, 'No WebSocket endpoint at /nope', {}],
    ['Origin not in the list', request({ headers: [['Origin', 'https://evil.example']] }), { allowedOrigins: ['https://app.example'] }, 403, 'Origin not allowed', {}],
    ['no Origin against a list', request(), { allowedOrigins: ['https://app.example'] }, 403, 'Origin not allowed', {}],
    ['Origin function says no', request({ headers: [['Origin', 'https://a']] }), { allowedOrigins: () => false }, 403, 'Origin not allowed', {}],
    ['authorize false', request(), { authorize: () => false }, 403, 'Forbidden', {}],
    ['authorize refuses with a status', request(), {
      authorize: async () => ({ accept: false, status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: 'token expired' }),
    }, 401, 'token expired', { 'WWW-Authenticate': 'Bearer' }],
    ['authorize throws an UpgradeRejection', request(), {
      authorize: () => { throw new UpgradeRejection(429, 'slow down', { 'Retry-After': '5' }); },
    }, 429, 'slow down', { 'Retry-After': '5' }],
  ];
  for (const [name, req, options, status, message, headers] of cases) {
    const r = await rejection(negotiateUpgrade(req, policy(options)));
    t.equal(r.status, status, name);
    t.equal(r.message, message, `${name}: message`);
    t.same(r.headers, headers, `${name}: headers`);
  }
});

t.test('path: exact match on the path without the query; any path without a policy', async (t) => {
  t.equal((await negotiateUpgrade(request({ target: '/chat?room=1' }), policy({ path: ['/ws', '/chat'] }))).protocol, undefined);
  t.equal((await negotiateUpgrade(request({ target: '/anything' }), policy())).protocol, undefined);
  t.equal((await rejection(negotiateUpgrade(request({ target: '/chat/' }), policy({ path: '/chat' })))).status, 404);
});

t.test('Origin list: ASCII case-insensitive; the function form sees the origin and the request view', async (t) => {
  const ok = await negotiateUpgrade(request({ headers: [['Origin', 'HTTPS://App.Example']] }), policy({ allowedOrigins: ['https://app.example'] }));
  t.equal(ok.extensions, '');
  const seen: Array<[string | undefined, string]> = [];
  const req = request({ target: '/p', headers: [['Origin', 'https://x']] });
  await negotiateUpgrade(req, policy({ allowedOrigins: (origin, view) => (seen.push([origin, view.path]), true) }));
  t.same(seen, [['https://x', '/p']]);
});

t.test('hook exceptions become 500 with the original error as cause', async (t) => {
  const boom = new Error('boom');
  const hooks: Array<[string, UpgradePolicyOptions]> = [
    ['allowedOrigins throws', { allowedOrigins: () => { throw boom; } }],
    ['authorize throws', { authorize: () => { throw boom; } }],
    ['authorize rejects', { authorize: () => Promise.reject(boom) }],
    ['protocols throws', { protocols: () => { throw boom; } }],
  ];
  for (const [name, options] of hooks) {
    const r = await rejection(negotiateUpgrade(request({ protocols: ['chat'] }), policy(options)));
    t.equal(r.status, 500, name);
    t.equal(r.message, 'Internal Server Error', `${name}: message`);
    t.equal((r as { cause?: unknown }).cause, boom, `${name}: cause`);
  }
  const odd: Array<[string, UpgradePolicyOptions, RegExp]> = [
    ['authorize returns junk', { authorize: () => 'yes' as unknown as true }, /neither true\/false nor/],
    ['authorize refuses with status 200', { authorize: () => ({ accept: false, status: 200 }) }, /invalid status 200/],
    ['protocols picks one not offered', { protocols: () => 'other' }, /did not offer/],
  ];
  for (const [name, options, cause] of odd) {
    const r = await rejection(negotiateUpgrade(request({ protocols: ['chat'] }), policy(options)));
    t.equal(r.status, 500, name);
    t.match(((r as { cause?: unknown }).cause as Error).message, cause, `${name}: cause`);
  }
});

t.test('order: path, then Origin, then authorize, then subprotocol and extensions', async (t) => {
  const calls: string[] = [];
  const everything: UpgradePolicyOptions = {
    path: '/ws',
    allowedOrigins: () => (calls.push('origin'), false),
    authorize: () => (calls.push('authorize'), false),
    protocols: () => (calls.push('protocols'), undefined),
  };
  t.equal((await rejection(negotiateUpgrade(request({ target: '/other', protocols: ['a'] }), policy(everything)))).status, 404);
  t.same(calls, [], '404 before any hook runs');

  t.equal((await rejection(negotiateUpgrade(request({ target: '/ws', protocols: ['a'] }), policy(everything)))).status, 403);
  t.same(calls, ['origin'], 'Origin refusal before authorize');

  calls.length = 0;
  const afterOrigin = { ...everything, allowedOrigins: () => (calls.push('origin'), true) };
  t.equal((await rejection(negotiateUpgrade(request({ target: '/ws', protocols: ['a'] }), policy(afterOrigin)))).message, 'Forbidden');
  t.same(calls, ['origin', 'authorize'], 'authorize refusal before the subprotocol is chosen');

  calls.length = 0;
  const accepting = { ...afterOrigin, authorize: () => (calls.push('authorize'), true as const) };
  await negotiateUpgrade(request({ target: '/ws', protocols: ['a'] }), policy(accepting), { afterAuthorize: () => calls.push('afterAuthorize') });
  t.same(calls, ['origin', 'authorize', 'afterAuthorize', 'protocols']);
});

t.test('afterAuthorize can stop the negotiation before the subprotocol and extensions', async (t) => {
  let chosen = false;
  const p = policy({ protocols: () => ((chosen = true), undefined), perMessageDeflate: true });
  const stop = new UpgradeRejection(503, 'The server is shutting down');
  const r = await rejection(negotiateUpgrade(request({ protocols: ['a'], extensions: 'permessage-deflate' }), p, {
    afterAuthorize: () => { throw stop; },
  }));
  t.equal(r, stop);
  t.equal(chosen, false);
});

t.test('authorize: data and extra response headers are returned', async (t) => {
  const r = await negotiateUpgrade(request(), policy({
    authorize: async (req) => ({ accept: true, data: { user: 'ann', from: req.remoteAddress }, headers: { 'Set-Cookie': 'sid=1' } }),
  }));
  t.same(r.data, { user: 'ann', from: '192.0.2.1' });
  t.same(r.headers, { 'Set-Cookie': 'sid=1' });
  const plain = await negotiateUpgrade(request(), policy({ authorize: () => true }));
  t.same([plain.data, plain.headers], [undefined, undefined]);
});

t.test('subprotocol: a list picks the first offer it contains (client order); a function picks one', async (t) => {
  const offered = ['v3', 'v2', 'v1'];
  t.equal((await negotiateUpgrade(request({ protocols: offered }), policy({ protocols: ['v1', 'v2'] }))).protocol, 'v2');
  t.equal((await negotiateUpgrade(request({ protocols: offered }), policy({ protocols: ['x'] }))).protocol, undefined);
  t.equal((await negotiateUpgrade(request(), policy({ protocols: ['v1'] }))).protocol, undefined, 'nothing offered');
  const seen: string[][] = [];
  const fn = (list: string[]) => (seen.push(list), list[list.length - 1]);
  t.equal((await negotiateUpgrade(request({ protocols: offered }), policy({ protocols: fn }))).protocol, 'v1');
  t.same(seen, [offered]);
  t.equal((await negotiateUpgrade(request({ protocols: offered }), policy({ protocols: () => undefined }))).protocol, undefined);
});

t.test('permessage-deflate: the answer and a transform with the negotiated parameters', async (t) => {
  const r = await negotiateUpgrade(
    request({ extensions: 'x-unknown, permessage-deflate; client_max_window_bits' }),
    policy({ perMessageDeflate: { serverMaxWindowBits: 10, clientMaxWindowBits: 12 } }),
  );
  t.equal(r.extensions, 'permessage-deflate; server_max_window_bits=10; client_max_window_bits=12');
  t.ok(r.transform instanceof PerMessageDeflate);
  t.same((r.transform as PerMessageDeflate).params,
    { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 10, clientMaxWindowBits: 12 });
  r.transform!.dispose();

  const none = await negotiateUpgrade(request({ extensions: 'permessage-deflate; bogus' }), policy({ perMessageDeflate: true }));
  t.same([none.extensions, none.transform], ['', null], 'no acceptable offer: declined');
  const off = await negotiateUpgrade(request({ extensions: 'permessage-deflate' }), policy());
  t.same([off.extensions, off.transform], ['', null], 'disabled: offers ignored');
});

t.test('resolveUpgradePolicy: validated once, frozen', async (t) => {
  const p = policy({ path: ['/a', '/b'], perMessageDeflate: true });
  t.ok(Object.isFrozen(p));
  t.same([...p.paths!], ['/a', '/b']);
  t.same(p.deflate, {});
  t.equal(p.maxPayload, MAX_PAYLOAD);
  t.equal(policy().paths, null);
  t.equal(policy({ perMessageDeflate: false }).deflate, null);
  t.throws(() => policy({ path: 'ws' }), InvalidArgumentError);
  t.throws(() => policy({ path: ['/ok', 'bad'] }), InvalidArgumentError);
  t.throws(() => policy({ perMessageDeflate: { serverMaxWindowBits: 7 } }), InvalidArgumentError);
  t.throws(() => policy({ perMessageDeflate: { level: 10 } }), InvalidArgumentError);
});

t.test('readOffers: Origin, subprotocols and extensions as both HTTP versions carry them', async (t) => {
  const h = (fields: HeaderField[]) => new HeaderList(fields);
  t.same(readOffers(h([]), true), { origin: undefined, protocols: [], extensions: [] });
  t.same(readOffers(h([['Origin', 'https://a'], ['Sec-WebSocket-Protocol', 'b, a'], ['sec-websocket-protocol', 'c'],
    ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits']]), true),
  { origin: 'https://a', protocols: ['b', 'a', 'c'], extensions: [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }] });
  t.same(readOffers(h([['Sec-WebSocket-Extensions', ';;;']]), false).extensions, [], 'not parsed when no extension is enabled');
  const bad: Array<[string, HeaderField[], string | RegExp]> = [
    ['two Origins', [['Origin', 'https://a'], ['Origin', 'https://b']], 'More than one Origin header'],
    ['bad subprotocol', [['Sec-WebSocket-Protocol', 'a b']], 'Malformed Sec-WebSocket-Protocol header'],
    ['bad extension list', [['Sec-WebSocket-Extensions', ';;;']], /./],
  ];
  for (const [name, fields, message] of bad) {
    let caught: unknown;
    try { readOffers(h(fields), true); } catch (err) { caught = err; }
    t.ok(caught instanceof UpgradeRejection, name);
    t.equal((caught as UpgradeRejection).status, 400, name);
    t.match((caught as UpgradeRejection).message, message, name);
  }
});

t.test('negotiateWithoutHook: the same answer or refusal as negotiateUpgrade, synchronously, for policies without authorize', async (t) => {
  const cases: Array<[string, NegotiationRequest, UpgradePolicyOptions]> = [
    ['nothing configured', request({ protocols: ['chat'], extensions: 'permessage-deflate' }), {}],
    ['path served', request({ target: '/chat?x=1' }), { path: '/chat' }],
    ['path not served', request({ target: '/nope' }), { path: '/chat' }],
    ['Origin refused', request({ headers: [['Origin', 'https://evil.example']] }), { allowedOrigins: ['https://app.example'] }],
    ['Origin hook throws', request(), { allowedOrigins: () => { throw new Error('boom'); } }],
    ['subprotocol chosen', request({ protocols: ['a', 'chat'] }), { protocols: ['chat'] }],
    ['subprotocol hook throws', request({ protocols: ['a'] }), { protocols: () => { throw new Error('boom'); } }],
    ['deflate negotiated', request({ extensions: 'permessage-deflate; client_max_window_bits' }), { perMessageDeflate: true }],
  ];
  for (const [name, req, options] of cases) {
    const p = policy(options);
    let sync: unknown;
    try { sync = negotiateWithoutHook(req, p); } catch (err) { sync = err; }
    let async_: unknown;
    try { async_ = await negotiateUpgrade(req, p); } catch (err) { async_ = err; }
    t.notOk(sync instanceof Promise, `${name}: not a promise`);
    if (async_ instanceof UpgradeRejection) {
      t.ok(sync instanceof UpgradeRejection, `${name}: refused too`);
      t.equal((sync as UpgradeRejection).status, async_.status, `${name}: status`);
      t.equal((sync as UpgradeRejection).message, async_.message, `${name}: message`);
    } else {
      const a = async_ as { transform: { dispose(): void } | null };
      const s = sync as typeof a;
      t.same({ ...s, transform: s.transform !== null }, { ...a, transform: a.transform !== null }, `${name}: same result`);
      s.transform?.dispose();
      a.transform?.dispose();
    }
  }
  t.throws(() => negotiateWithoutHook(request(), policy({ authorize: () => true })), InvalidArgumentError, 'a policy with authorize needs negotiateUpgrade');
});
