import t from 'tap';
import { parseExtensionHeader as parse } from '../../lib/http/extension-header.js';
import {
  acceptServerResponse, clientOffer as offerValidated, negotiateServer, resolveDeflateOptions as valid, type PerMessageDeflateOptions,
} from '../../lib/extensions/permessage-deflate.js';
import { HandshakeError, InvalidArgumentError } from '../../lib/errors.js';

// Negotiation takes options validated once, where they are resolved; the helpers resolve them the same way.
const server = (header: string, opts: PerMessageDeflateOptions = {}) => negotiateServer(parse(header), valid(opts));
const client = (response: string, opts: PerMessageDeflateOptions = {}) => acceptServerResponse(parse(response), valid(opts));
const clientOffer = (opts: PerMessageDeflateOptions) => offerValidated(valid(opts));
const D = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

t.test('server: each parameter, valid', async (t) => {
  const cases: Array<[string, PerMessageDeflateOptions, string, Partial<typeof D>]> = [
    ['permessage-deflate', {}, 'permessage-deflate', {}],
    ['permessage-deflate; server_no_context_takeover', {}, 'permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }],
    ['permessage-deflate; client_no_context_takeover', {}, 'permessage-deflate; client_no_context_takeover', { clientNoContextTakeover: true }],
    ['permessage-deflate; server_max_window_bits=10', {}, 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits="8"', {}, 'permessage-deflate; server_max_window_bits=8', { serverMaxWindowBits: 8 }],
    ['permessage-deflate; server_max_window_bits=15', {}, 'permessage-deflate; server_max_window_bits=15', {}],
    ['permessage-deflate; client_max_window_bits', {}, 'permessage-deflate', {}],
    ['permessage-deflate; client_max_window_bits=9', {}, 'permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 9 }],
    ['permessage-deflate; client_max_window_bits="12"', {}, 'permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 12 }],
    ['permessage-deflate;client_no_context_takeover;server_no_context_takeover;server_max_window_bits=11;client_max_window_bits=13', {},
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=13',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 11, clientMaxWindowBits: 13 }],
  ];
  for (const [offer, opts, response, params] of cases) {
    t.same(server(offer, opts), { response, params: { ...D, ...params } }, offer);
  }
});

t.test('server: its own options tighten the answer', async (t) => {
  t.same(server('permessage-deflate', { serverNoContextTakeover: true })?.response, 'permessage-deflate; server_no_context_takeover');
  t.same(server('permessage-deflate', { clientNoContextTakeover: true })?.params.clientNoContextTakeover, true);
  t.same(server('permessage-deflate', { clientNoContextTakeover: true })?.response, 'permessage-deflate; client_no_context_takeover');
  t.same(server('permessage-deflate', { serverMaxWindowBits: 10 })?.response, 'permessage-deflate; server_max_window_bits=10', 'server limits itself unasked');
  t.same(server('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 })?.params.serverMaxWindowBits, 10, 'lower of the two');
  t.same(server('permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 10 })?.response, 'permessage-deflate; server_max_window_bits=9');
  t.same(server('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 }),
    { response: 'permessage-deflate; client_max_window_bits=10', params: { ...D, clientMaxWindowBits: 10 } });
  t.same(server('permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 })?.params.clientMaxWindowBits, 10);
  t.same(server('permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 10 })?.params.clientMaxWindowBits, 9);
  // RFC 7692 7.1.2.2: client_max_window_bits may not be answered unless offered.
  t.same(server('permessage-deflate', { clientMaxWindowBits: 10 }), { response: 'permessage-deflate', params: D });
});

t.test('server: invalid offers are skipped', async (t) => {
  const invalid = [
    'permessage-deflate; server_max_window_bits', 'permessage-deflate; server_max_window_bits=7',
    'permessage-deflate; server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=08',
    'permessage-deflate; server_max_window_bits=010', 'permessage-deflate; server_max_window_bits=1.0',
    'permessage-deflate; server_max_window_bits=-9', 'permessage-deflate; server_max_window_bits=a',
    'permessage-deflate; client_max_window_bits=7', 'permessage-deflate; client_max_window_bits=16',
    'permessage-deflate; client_max_window_bits=0', 'permessage-deflate; client_max_window_bits="x"',
    'permessage-deflate; server_no_context_takeover=1', 'permessage-deflate; client_no_context_takeover="x"',
    'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
    'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
    'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10',
    'permessage-deflate; client_max_window_bits; client_max_window_bits=10',
    'permessage-deflate; unknown', 'permessage-deflate; __proto__', 'permessage-deflate; constructor=1',
    'permessage-deflate; Server_No_Context_Takeover',
    'x-webkit-deflate-frame', 'deflate-frame; server_max_window_bits=10', 'permessage-deflate-x',
  ];
  for (const offer of invalid) t.equal(server(offer), null, offer);
  t.equal(negotiateServer([], valid({})), null, 'no offers');
});

t.test('extension names are case-insensitive, parameter names are not', async (t) => {
  t.same(server('PerMessage-Deflate; server_max_window_bits=10')?.params.serverMaxWindowBits, 10);
  t.same(client('PERMESSAGE-DEFLATE; client_max_window_bits=10').clientMaxWindowBits, 10);
  t.equal(server('permessage-deflate; Client_Max_Window_Bits'), null);
});

t.test('server: the first acceptable offer wins', async (t) => {
  const r = server('foo, permessage-deflate; server_max_window_bits=7, permessage-deflate; bogus, ' +
    'permessage-deflate; server_max_window_bits=11, permessage-deflate; server_max_window_bits=12');
  t.same(r?.params.serverMaxWindowBits, 11);
  t.same(server('permessage-deflate; client_max_window_bits=10, permessage-deflate')?.params.clientMaxWindowBits, 10);
  t.same(server('permessage-deflate, permessage-deflate; client_max_window_bits=10')?.params.clientMaxWindowBits, 15);
});

t.test('invalid options throw InvalidArgumentError at the one validation point', async (t) => {
  for (const opts of [{ serverMaxWindowBits: 7 }, { clientMaxWindowBits: 16 }, { serverMaxWindowBits: 9.5 }, { level: 10 },
    { memLevel: 0 }, { threshold: -1 }] as PerMessageDeflateOptions[]) {
    t.throws(() => valid(opts), InvalidArgumentError, JSON.stringify(opts));
  }
});

t.test('validated options are a frozen copy: later changes to the original do not reach negotiation', async (t) => {
  const opts: PerMessageDeflateOptions = { serverMaxWindowBits: 10 };
  const resolved = valid(opts);
  opts.serverMaxWindowBits = 7;
  t.ok(Object.isFrozen(resolved));
  t.equal(negotiateServer(parse('permessage-deflate'), resolved)?.response, 'permessage-deflate; server_max_window_bits=10');
});

t.test('client: the offer', async (t) => {
  t.equal(clientOffer({}), 'permessage-deflate; client_max_window_bits');
  t.equal(clientOffer({ clientMaxWindowBits: 10 }), 'permessage-deflate; client_max_window_bits=10');
  t.equal(clientOffer({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 8 }),
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8');
  t.doesNotThrow(() => parse(clientOffer({ serverMaxWindowBits: 12 })), 'parses with our own grammar');
});

const reject = { constructor: HandshakeError, code: 'ERR_WS_EXTENSION_NEGOTIATION' };

t.test('client: acceptable answers', async (t) => {
  t.same(client('permessage-deflate'), D);
  t.same(client('permessage-deflate; server_no_context_takeover'), { ...D, serverNoContextTakeover: true }, 'server may add it');
  t.same(client('permessage-deflate; client_no_context_takeover'), { ...D, clientNoContextTakeover: true }, 'server may require it');
  t.same(client('permessage-deflate', { clientNoContextTakeover: true }), { ...D, clientNoContextTakeover: true }, 'we keep our promise');
  t.same(client('permessage-deflate; server_max_window_bits=10'), { ...D, serverMaxWindowBits: 10 }, 'server may limit itself');
  t.same(client('permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 12 }), { ...D, serverMaxWindowBits: 10 });
  t.same(client('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 12 }), { ...D, serverMaxWindowBits: 12 });
  t.same(client('permessage-deflate; client_max_window_bits=9'), { ...D, clientMaxWindowBits: 9 });
  t.same(client('permessage-deflate; client_max_window_bits="9"'), { ...D, clientMaxWindowBits: 9 });
  t.same(client('permessage-deflate', { clientMaxWindowBits: 10 }), { ...D, clientMaxWindowBits: 10 }, 'we keep our offered window');
  t.same(client('permessage-deflate; client_max_window_bits=8', { clientMaxWindowBits: 10 }), { ...D, clientMaxWindowBits: 8 });
  t.same(client('permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }), { ...D, serverNoContextTakeover: true });
});

t.test('client: unacceptable answers throw HandshakeError', async (t) => {
  const cases: Array<[string, PerMessageDeflateOptions]> = [
    ['x-webkit-deflate-frame', {}],
    ['permessage-deflate, permessage-deflate', {}],
    ['permessage-deflate, foo', {}],
    ['permessage-deflate; foo', {}],
    ['permessage-deflate; __proto__', {}],
    ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', {}],
    ['permessage-deflate; client_max_window_bits=10; client_max_window_bits=10', {}],
    ['permessage-deflate; server_no_context_takeover=1', {}],
    ['permessage-deflate; client_no_context_takeover=1', {}],
    ['permessage-deflate; client_max_window_bits', {}],
    ['permessage-deflate; server_max_window_bits', {}],
    ['permessage-deflate; server_max_window_bits=16', {}],
    ['permessage-deflate; server_max_window_bits=7', {}],
    ['permessage-deflate; client_max_window_bits=16', {}],
    ['permessage-deflate; client_max_window_bits=09', {}],
    ['permessage-deflate; server_max_window_bits=13', { serverMaxWindowBits: 12 }],
    ['permessage-deflate', { serverMaxWindowBits: 12 }],
    ['permessage-deflate', { serverNoContextTakeover: true }],
    ['permessage-deflate; client_max_window_bits=11', { clientMaxWindowBits: 10 }],
  ];
  for (const [response, opts] of cases) t.throws(() => client(response, opts), reject, `${response} ${JSON.stringify(opts)}`);
  t.throws(() => acceptServerResponse([], valid({})), InvalidArgumentError);
});

t.test('round trip: client offer -> server answer -> client accepts the same parameters', async (t) => {
  const bits = [undefined, 8, 9, 12, 15];
  const bools = [undefined, true];
  let n = 0;
  for (const csnct of bools) for (const ccnct of bools) for (const csmwb of bits) for (const ccmwb of bits)
  for (const ssnct of bools) for (const ssmwb of [undefined, 10]) for (const scmwb of [undefined, 11]) {
    const copts = { serverNoContextTakeover: csnct, clientNoContextTakeover: ccnct, serverMaxWindowBits: csmwb, clientMaxWindowBits: ccmwb };
    const sopts = { serverNoContextTakeover: ssnct, serverMaxWindowBits: ssmwb, clientMaxWindowBits: scmwb };
    const r = server(clientOffer(copts), sopts);
    if (!r) { t.fail('declined ' + clientOffer(copts)); continue; }
    const accepted = client(r.response, copts);
    if (JSON.stringify(accepted) !== JSON.stringify(r.params)) t.same(accepted, r.params, `${clientOffer(copts)} -> ${r.response}`);
    n++;
  }
  t.equal(n, 2 * 2 * 5 * 5 * 2 * 2 * 2);
});
