// RFC 7692 permessage-deflate negotiation, both roles: what our server answers to every
// offer (and which offers it must decline), and which answers our client must refuse.
import t from 'tap';
import { connect, WebSocketServer } from '../../lib/index.js';
import { echo, TESTEE_DEFLATE, TESTEE_LIMITS } from '../../conformance/echo.js';
import { parseDeflateResponse, type DeflateAgreement } from './deflate.js';
import { dial, scriptedServer } from './peer.js';
import { allOffers } from './table-deflate.js';

type Params = Map<string, string | true>;

/** Splits one offer "permessage-deflate; a; b=1" into its parameters (test inputs are well-formed). */
function offerParams(offer: string): Params {
  const [, ...ps] = offer.split(';').map((s) => s.trim());
  return new Map(ps.map((p) => {
    const [k, v] = p.split('=');
    return [k, v === undefined ? true : v.replace(/"/g, '')];
  }));
}

/** RFC 7692 section 7.1: what a response to `offer` may and must contain. */
function responseProblems(offer: Params, a: DeflateAgreement): string[] {
  const out: string[] = [];
  if (offer.has('server_no_context_takeover') && !a.serverNoContextTakeover) out.push('server_no_context_takeover offered but not answered');
  const smwb = offer.get('server_max_window_bits');
  if (smwb !== undefined) {
    if (a.serverMaxWindowBits === undefined) out.push('server_max_window_bits offered but not answered');
    else if (a.serverMaxWindowBits > Number(smwb)) out.push(`server_max_window_bits ${a.serverMaxWindowBits} > offered ${smwb}`);
  }
  const cmwb = offer.get('client_max_window_bits');
  if (cmwb === undefined && a.clientMaxWindowBits !== undefined) out.push('client_max_window_bits answered but not offered');
  if (typeof cmwb === 'string' && a.clientMaxWindowBits !== undefined && a.clientMaxWindowBits > Number(cmwb)) {
    out.push(`client_max_window_bits ${a.clientMaxWindowBits} > offered ${cmwb}`);
  }
  return out;
}

/** Offers the server must decline (RFC 7692 section 7.1, "MUST decline"); the upgrade still succeeds. */
const DECLINE = [
  'permessage-deflate; x-unknown',
  'permessage-deflate; server_max_window_bits=7',
  'permessage-deflate; server_max_window_bits=16',
  'permessage-deflate; server_max_window_bits',
  'permessage-deflate; server_max_window_bits=010x',
  'permessage-deflate; client_max_window_bits=7',
  'permessage-deflate; client_max_window_bits=16',
  'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
  'permessage-deflate; client_max_window_bits; client_max_window_bits=10',
  'permessage-deflate; server_no_context_takeover=1',
  'permessage-deflate; client_no_context_takeover=true',
];

t.test('our server answers every valid offer within RFC 7692 rules', async (t) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: TESTEE_DEFLATE, ...TESTEE_LIMITS });
  server.on('connection', echo);
  const { port } = await server.listen();
  t.teardown(() => server.close(100));

  const check = async (offer: string, expect: 'accept' | 'decline', against = offer) => {
    const hs = await dial(port, { extensions: offer });
    hs.socket.destroy();
    t.equal(hs.status, 101, `${offer}: upgraded`);
    const header = hs.headers['sec-websocket-extensions'];
    let a: DeflateAgreement | null = null;
    try {
      a = parseDeflateResponse(header);
    } catch (err) {
      t.fail(`${offer}: invalid response "${header}": ${(err as Error).message}`);
      return;
    }
    if (expect === 'decline') {
      t.equal(a, null, `${offer}: declined (got "${header ?? ''}")`);
      return;
    }
    if (!t.ok(a, `${offer}: accepted`) || !a) return;
    t.same(responseProblems(offerParams(against), a), [], `${offer} -> "${header}"`);
  };

  for (const offer of allOffers()) await check(offer, 'accept');
  await check('permessage-deflate; client_max_window_bits="10"', 'accept');
  for (const offer of DECLINE) await check(offer, 'decline');
  // A declined offer does not stop a later acceptable one (RFC 7692 section 5).
  await check('permessage-deflate; x-unknown, permessage-deflate; server_no_context_takeover', 'accept', 'permessage-deflate; server_no_context_takeover');
  await check('x-webkit-other, permessage-deflate; server_max_window_bits=10', 'accept', 'permessage-deflate; server_max_window_bits=10');
  await check('x-webkit-other', 'decline');
});

t.test('our client offers a valid permessage-deflate offer', async (t) => {
  const scripted = await scriptedServer(() => ({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } }));
  t.teardown(() => scripted.close());
  const accepted = scripted.accept();
  const ws = await connect(scripted.url, { perMessageDeflate: TESTEE_DEFLATE, ...TESTEE_LIMITS });
  const { peer, request } = await accepted;
  const offer = request.headers['sec-websocket-extensions'] ?? '';
  t.match(offer, /^permessage-deflate(\s*;|\s*,|$)/, `offer "${offer}"`);
  for (const one of offer.split(',')) {
    const [name, ...ps] = one.split(';').map((s) => s.trim());
    t.equal(name, 'permessage-deflate');
    for (const p of ps) {
      t.match(p, /^(server_no_context_takeover|client_no_context_takeover|server_max_window_bits="?(8|9|1[0-5])"?|client_max_window_bits(="?(8|9|1[0-5])"?)?)$/, `parameter ${p}`);
    }
  }
  ws.terminate();
  peer.destroy();
});

/** Answers a client must refuse: the connect() promise rejects and the TCP connection is closed. */
const REFUSE: Array<[string, string]> = [
  ['an extension that was not offered', 'x-unknown'],
  ['an unknown parameter', 'permessage-deflate; foo'],
  ['server_max_window_bits=7', 'permessage-deflate; server_max_window_bits=7'],
  ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
  ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
  ['client_max_window_bits without a value', 'permessage-deflate; client_max_window_bits'],
  ['client_max_window_bits=16', 'permessage-deflate; client_max_window_bits=16'],
  ['a duplicate parameter', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
  ['a value on client_no_context_takeover', 'permessage-deflate; client_no_context_takeover=1'],
  ['permessage-deflate twice', 'permessage-deflate, permessage-deflate'],
];

for (const [what, answer] of REFUSE) {
  t.test(`our client refuses a response with ${what}`, async (t) => {
    const scripted = await scriptedServer(() => ({ headers: { 'Sec-WebSocket-Extensions': answer } }));
    t.teardown(() => scripted.close());
    const accepted = scripted.accept();
    const outcome = await connect(scripted.url, { perMessageDeflate: TESTEE_DEFLATE, ...TESTEE_LIMITS })
      .then((ws) => { ws.terminate(); return 'connected'; }, () => 'refused');
    t.equal(outcome, 'refused', `"${answer}" refused`);
    const { peer } = await accepted;
    await peer.waitRemoteClosed(5000);
    t.ok(peer.remoteClosed, 'the client closed the connection');
  });
}

t.test('our client without permessage-deflate refuses a response that enables it', async (t) => {
  const scripted = await scriptedServer(() => ({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } }));
  t.teardown(() => scripted.close());
  const accepted = scripted.accept();
  const outcome = await connect(scripted.url, { perMessageDeflate: false })
    .then((ws) => { ws.terminate(); return 'connected'; }, () => 'refused');
  t.equal(outcome, 'refused');
  const { peer, request } = await accepted;
  t.equal(request.headers['sec-websocket-extensions'], undefined, 'nothing offered');
  await peer.waitRemoteClosed(5000);
  t.ok(peer.remoteClosed);
});

t.test('our client accepts a response naming client_max_window_bits only when it offered it', async (t) => {
  const scripted = await scriptedServer(() => ({
    headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits=10' },
  }));
  t.teardown(() => scripted.close());
  const accepted = scripted.accept();
  const attempt = connect(scripted.url, { perMessageDeflate: TESTEE_DEFLATE, ...TESTEE_LIMITS });
  const { peer, request } = await accepted;
  const offered = /client_max_window_bits/.test(request.headers['sec-websocket-extensions'] ?? '');
  if (offered) {
    const ws = await attempt;
    t.match(ws.extensions, /^permessage-deflate/);
    ws.terminate();
  } else {
    await t.rejects(attempt);
  }
  peer.destroy();
});
