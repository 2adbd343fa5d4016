// permessage-deflate and publish over real sockets: raw peers that negotiated
// server_no_context_takeover receive byte-identical compressed frames (one compression for all),
// a peer whose server side keeps its context gets the uncompressed frame; every peer inflates
// what it got to the published text with an inflater independent of lib/ (test/conformance/deflate.ts).
import t from 'tap';
import { PeerInflater } from '../conformance/deflate.js';
import { OP, type Frame } from '../helpers/frames.js';
import { rawSubscriber, serverFrame, startServer } from './setup.js';

const NO_CONTEXT = { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover' };
const TAKEOVER = { 'Sec-WebSocket-Extensions': 'permessage-deflate' };
const TEXT = 'a market tick, a market tick, a market tick: {"sym":"ABC","px":101.25,"qty":300}';

function dataFrames(frames: Frame[]): Frame[] {
  return frames.filter((f) => f.opcode === OP.TEXT || f.opcode === OP.BINARY);
}

t.test('no-context-takeover peers get identical compressed frames; a context-takeover peer gets the plain frame', async (t) => {
  const { server, port } = await startServer(t, { perMessageDeflate: { threshold: 0 } });
  const a = await rawSubscriber(t, server, port, ['feed'], { headers: NO_CONTEXT });
  const b = await rawSubscriber(t, server, port, ['feed'], { headers: NO_CONTEXT });
  const c = await rawSubscriber(t, server, port, ['feed'], { headers: TAKEOVER });
  t.match(a.peer.head, /Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n/i);
  t.notMatch(c.peer.head, /server_no_context_takeover/);
  const before = server.pubsubState.sharedCompressions;

  // c sends a compressed message of its own between the publishes: its context must not be disturbed.
  c.ws.send(TEXT);
  t.equal(server.publish('feed', TEXT), 3);
  c.ws.send(TEXT);
  t.equal(server.publish('feed', TEXT), 3);
  c.ws.send(TEXT);

  await a.peer.waitFor(() => dataFrames(a.peer.frames).length === 2, 5000, 'two messages at a');
  await b.peer.waitFor(() => dataFrames(b.peer.frames).length === 2, 5000, 'two messages at b');
  await c.peer.waitFor(() => dataFrames(c.peer.frames).length === 5, 5000, 'five messages at c');
  t.equal(server.pubsubState.sharedCompressions - before, 2, 'one compression per published message, for both peers');

  t.same(a.peer.received, b.peer.received, 'a and b received the same bytes');
  const [m1, m2] = dataFrames(a.peer.frames);
  t.equal(m1!.rsv, 4, 'RSV1 set: compressed');
  t.same(m1!.payload, m2!.payload, 'a fresh context for every message: both compress alike');
  t.ok(m1!.payload.length < Buffer.byteLength(TEXT));
  const inflater = new PeerInflater({ noContextTakeover: true });
  for (const f of [m1!, m2!]) t.equal((await inflater.inflate(f.payload)).toString(), TEXT);
  inflater.close();

  // c: own (compressed, shared context), published (plain), own, published, own.
  const cf = dataFrames(c.peer.frames);
  t.same(cf.map((f) => f.rsv), [4, 0, 4, 0, 4]);
  t.same(Buffer.concat([cf[1]!, cf[3]!].map((f) => serverFrame(0x81, f.payload))), Buffer.concat([serverFrame(0x81, TEXT), serverFrame(0x81, TEXT)]));
  t.equal(cf[1]!.payload.toString(), TEXT);
  const ctx = new PeerInflater();
  for (const f of [cf[0]!, cf[2]!, cf[4]!]) t.equal((await ctx.inflate(f.payload)).toString(), TEXT, 'own messages inflate in one context');
  ctx.close();
});

t.test('below the threshold and with compress: false, everyone gets the plain frame', async (t) => {
  const { server, port } = await startServer(t, { perMessageDeflate: { threshold: 64 } });
  const a = await rawSubscriber(t, server, port, ['feed'], { headers: NO_CONTEXT });
  const before = server.pubsubState.sharedCompressions;
  server.publish('feed', 'short');
  server.publish('feed', TEXT, { compress: false });
  const want = Buffer.concat([serverFrame(0x81, 'short'), serverFrame(0x81, TEXT)]);
  await a.peer.until((r) => r.length >= want.length);
  t.same(a.peer.received, want);
  t.equal(server.pubsubState.sharedCompressions, before, 'nothing compressed');
});
