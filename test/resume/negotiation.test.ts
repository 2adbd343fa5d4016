// The resume negotiation and its hostile cases, with raw peers speaking exact bytes: plain
// peers are unaffected either way, a claimed id never hands over someone else's session,
// forged counts are refused (400) or fail the connection (1002), a peer that never
// acknowledges hits the 1 MiB bound and the session starts fresh, the window expires.
import { once } from 'node:events';
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { ReconnectingWebSocket } from '../../lib/reconnect/reconnecting-websocket.js';
import { WebSocketServer } from '../../lib/server/server.js';
import { OP, closeCodeIn } from '../helpers/frames.js';
import { switchingProtocols } from '../helpers/http.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { exchange } from '../helpers/raw-peer.js';
import { scriptedServer } from '../helpers/raw-server.js';
import { ack, offer, resumeServer } from './helpers.js';

t.test('a plain client on a resume server: a plain connection, no resume header', async (t) => {
  const srv = await resumeServer(t);
  let connections = 0;
  srv.wss.on('connection', (ws) => {
    connections++;
    ws.on('message', (d) => ws.send(d));
  });
  const ws = await connect(srv.url, { keepAliveInterval: 0 });
  t.equal(ws.handshake?.headers['rfcws-resume'], undefined);
  ws.send('plain');
  const [data] = await once(ws, 'message');
  t.equal(data.toString(), 'plain', 'echoed unchanged: no framing of application messages');
  t.equal(connections, 1);
  t.equal(srv.sessions.length, 0);
  ws.close();
});

t.test('a resume client on a plain server: resumed false, messages unchanged both ways', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', keepAliveInterval: 0 });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  const offers: Array<string | undefined> = [];
  wss.on('connection', (ws, req) => {
    offers.push(req.headers['rfcws-resume']);
    ws.on('message', (d) => ws.send(`echo ${d}`));
  });
  const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}/`, { resume: true, keepAliveInterval: 0 });
  t.teardown(() => rws.close());
  const [{ resumed }] = await once(rws, 'open');
  t.equal(resumed, false);
  rws.send('hi');
  const [data] = await once(rws, 'message');
  t.equal(data.toString(), 'echo hi');
  t.same(offers, ['new'], 'the offer is a header the plain server ignores');
});

t.test('a new session: 128-bit random ids, never the one a client claims', async (t) => {
  const srv = await resumeServer(t);
  const a = await offer(t, srv.port, 'new');
  const b = await offer(t, srv.port, 'new');
  t.equal(a.resumed, false);
  t.equal(a.received, 0);
  t.not(a.id, b.id);
  t.equal(Buffer.from(a.id, 'base64url').length, 16);
  const forged = 'AAAAAAAAAAAAAAAAAAAAAA';
  const c = await offer(t, srv.port, `id=${forged}; received=0`);
  t.equal(c.resumed, false, 'an unknown id gets a fresh session');
  t.not(c.id, forged, '...with a new id, not the claimed one');
  t.equal(srv.sessions.length, 3);
});

t.test('resuming: the old transport is dropped, the missed messages replayed from the count the client sends', async (t) => {
  const srv = await resumeServer(t);
  const a = await offer(t, srv.port, 'new');
  const session = srv.sessions[0]!;
  for (let i = 0; i < 5; i++) session.send(`m${i}`);
  await a.peer.until(() => a.peer.frames.length >= 5);
  await a.peer.send(ack(2));
  await a.peer.send({ opcode: OP.TEXT, payload: 'from client' });
  await once(session, 'message');
  const b = await offer(t, srv.port, `id=${a.id}; received=3`);
  t.same({ id: b.id, received: b.received, resumed: b.resumed }, { id: a.id, received: 1, resumed: true });
  await a.peer.whenClosed();
  t.pass('the old transport is closed');
  await b.peer.until(() => b.peer.frames.length >= 2);
  t.same(b.peer.frames.map((f) => f.payload.toString()), ['m3', 'm4'], 'exactly what the client lacks');
  t.equal(session.ws?.readyState, 1);
});

t.test('forged counts: beyond what was sent in the header (400) or in an ack (1002)', async (t) => {
  const srv = await resumeServer(t);
  const a = await offer(t, srv.port, 'new');
  srv.sessions[0]!.send('one');
  a.peer.destroy();
  const response = (await exchange(srv.port, [
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nrfcws-resume: id=${a.id}; received=2\r\n\r\n`,
  ])).toString('latin1');
  t.match(response, /^HTTP\/1\.1 400 /);
  const malformed = (await exchange(srv.port, [
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nrfcws-resume: id=x; received=2\r\n\r\n',
  ])).toString('latin1');
  t.match(malformed, /^HTTP\/1\.1 400 /, 'a malformed offer: 400');

  const b = await offer(t, srv.port, 'new');
  const closed = once(srv.sessions[1]!, 'close');
  srv.sessions[1]!.send('x');
  await b.peer.send(ack(2));
  t.equal(await b.peer.untilClose(), 1002, 'an ack beyond what was sent fails the connection');
  t.same(await closed, ['protocol'], 'and ends the session');
  t.equal(srv.sessions[1]!.send('late'), false);
  const c = await offer(t, srv.port, 'new');
  await c.peer.send(ack(Number.NaN));
  t.equal(await c.peer.untilClose(), 1002, 'a malformed ack too');
});

t.test('a client that never acknowledges: the 1 MiB bound ends the session (1008), then a fresh one', async (t) => {
  const srv = await resumeServer(t);
  const a = await offer(t, srv.port, 'new');
  const session = srv.sessions[0]!;
  const closed = once(session, 'close');
  const kib = 'x'.repeat(1024);
  let accepted = 0;
  while (session.send(kib)) accepted++;
  t.equal(accepted, 1024, 'exactly 1 MiB is kept unacknowledged');
  t.same(await closed, ['overflow']);
  t.equal(await a.peer.untilClose(), 1008);
  const b = await offer(t, srv.port, `id=${a.id}; received=${a.peer.frames.filter((f) => f.opcode === OP.TEXT).length}`);
  t.equal(b.resumed, false, 'the overflowed session is gone: fresh');
  t.not(b.id, a.id);
});

t.test('a server that never acknowledges: the client starts a fresh session with resumed false', async (t) => {
  let n = 0;
  const ids = ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB'];
  const fromClient: Buffer[] = [];
  const srv = await scriptedServer(t, (socket, _head, key) => {
    socket.write(switchingProtocols(key, `rfcws-resume: id=${ids[n++]}; received=0; resumed=0\r\n`));
    if (n === 1) socket.on('data', (c: Buffer) => fromClient.push(c));
  });
  const rws = new ReconnectingWebSocket(srv.url, { resume: true, keepAliveInterval: 0, closeTimeout: 50, baseDelay: 1 });
  t.teardown(() => rws.close());
  const [first] = await once(rws, 'open');
  t.equal(first.resumed, false);
  const closed = once(rws, 'close');
  const kib = Buffer.alloc(1024);
  let accepted = 0;
  while (rws.send(kib)) accepted++;
  t.equal(accepted, 1024, 'the replay buffer holds exactly 1 MiB');
  t.equal((await closed)[0].code, 1006, 'closed (the raw server never answers the close)');
  t.equal(closeCodeIn(Buffer.concat(fromClient)), 1008, 'with 1008 after the 1 MiB of data');
  const [second] = await once(rws, 'open');
  t.equal(second.resumed, false);
  t.match(srv.requests[1], /\r\nrfcws-resume: new\r\n/i, 'the next attempt offers a new session');
});

t.test('the resume window: a session waits for its client, then expires', async (t) => {
  const clock = new ManualClock();
  const srv = await resumeServer(t, { resume: { window: 30_000, clock } });
  const a = await offer(t, srv.port, 'new');
  const session = srv.sessions[0]!;
  const disconnected = once(session, 'disconnect');
  a.peer.destroy();
  t.equal((await disconnected)[0], 1006);
  session.send('while away');
  clock.advance(29_999);
  const b = await offer(t, srv.port, `id=${a.id}; received=0`);
  t.equal(b.resumed, true, 'back within the window');
  await b.peer.until(() => b.peer.frames.length >= 1);
  t.equal(b.peer.frames[0]!.payload.toString(), 'while away', 'what was sent while away arrives');
  const again = once(session, 'disconnect');
  b.peer.destroy();
  await again;
  const expired = once(session, 'close');
  clock.advance(30_000);
  t.same(await expired, ['expired']);
  const c = await offer(t, srv.port, `id=${a.id}; received=1`);
  t.equal(c.resumed, false, 'past the window: fresh');
});
