// Self-checks of the conformance helpers (frame codec, UTF-8 prefix checker, deflate
// helper, scripted peer), independent of the library: a wrong helper would make every
// table case meaningless.
import t from 'tap';
import { isUtf8 } from 'node:buffer';
import net from 'node:net';
import { closePayload, encodeFrames, FrameDecoder, fragments, OP, sframe } from '../helpers/frames.js';
import { parseDeflateResponse, PeerDeflater, PeerInflater } from './deflate.js';
import { acceptFor } from '../helpers/http.js';
import { dial, scriptedServer } from './peer.js';
import { isValidUtf8, utf8FailPoint } from './utf8.js';
import { SEQUENCES } from './sequences.js';

t.test('frame encoder matches RFC 6455 section 5.7', async (t) => {
  t.equal(sframe({ opcode: OP.TEXT, payload: 'Hello' }).toString('hex'), '810548656c6c6f');
  t.equal(encodeFrames({ opcode: OP.TEXT, payload: 'Hello', mask: Buffer.from('37fa213d', 'hex') }, 'client').toString('hex'),
    '818537fa213d7f9f4d5158');
  t.equal(sframe({ opcode: OP.TEXT, payload: 'Hel', fin: false }).toString('hex'), '010348656c');
  t.equal(sframe({ opcode: OP.CONT, payload: 'lo' }).toString('hex'), '80026c6f');
  t.equal(sframe({ opcode: OP.PING, payload: 'Hello' }).toString('hex'), '890548656c6c6f');
  t.equal(sframe({ opcode: OP.BINARY, payload: Buffer.alloc(256) }).subarray(0, 4).toString('hex'), '827e0100');
  t.equal(sframe({ opcode: OP.BINARY, payload: Buffer.alloc(65536) }).subarray(0, 10).toString('hex'), '827f0000000000010000');
  t.equal(sframe({ opcode: OP.TEXT, payload: 'x', rsv: 5 })[0], 0xd1);
  t.equal(closePayload(1000, 'ok').toString('hex'), '03e86f6b');
  t.equal(closePayload().length, 0);
});

t.test('frame decoder reassembles any chunking and unmasks', async (t) => {
  const bytes = Buffer.concat([
    encodeFrames({ opcode: OP.TEXT, payload: 'Hello' }, 'client'),
    sframe({ opcode: OP.BINARY, payload: Buffer.alloc(70000, 7) }),
    encodeFrames({ opcode: OP.CLOSE, payload: closePayload(1002) }, 'client'),
  ]);
  for (const size of [1, 3, 1000, bytes.length]) {
    const d = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < bytes.length; i += size) frames.push(...d.push(bytes.subarray(i, i + size)));
    t.equal(frames.length, 3, `chunks of ${size}`);
    t.equal(frames[0].payload.toString(), 'Hello');
    t.ok(frames[0].masked);
    t.equal(frames[1].payload.length, 70000);
    t.ok(frames[1].payload.every((b) => b === 7));
    t.equal(frames[2].payload.readUInt16BE(0), 1002);
    t.equal(d.pending, 0);
  }
});

t.test('fragments() splits a message with the opcode on the first frame', async (t) => {
  const f = fragments(OP.TEXT, 'abcdefg', 3);
  t.same(f.map((x) => [x.opcode, x.fin, String(x.payload)]), [[1, false, 'abc'], [0, false, 'def'], [0, true, 'g']]);
});

t.test('UTF-8 prefix checker agrees with node and with the hand-written table', async (t) => {
  for (const [group, seqs, valid] of SEQUENCES) {
    for (const hex of seqs) {
      const b = Buffer.from(hex, 'hex');
      t.equal(isValidUtf8(b), valid, `${group} ${hex.slice(0, 24)} table flag`);
      t.equal(isValidUtf8(b), isUtf8(b), `${group} ${hex.slice(0, 24)} vs node`);
    }
  }
  t.equal(utf8FailPoint(Buffer.from('ceba e1bd b9 cf83 cebc ceb5 eda080'.replace(/ /g, ''), 'hex')), 13);
  t.equal(utf8FailPoint(Buffer.from('f4', 'hex')), -1);
  t.equal(utf8FailPoint(Buffer.from('f490', 'hex')), 2);
  t.equal(utf8FailPoint(Buffer.from('41c0', 'hex')), 2);
  t.equal(utf8FailPoint(Buffer.from('e080', 'hex')), 2);
  // Every prefix up to the fail point is a possible start of valid UTF-8 by node's judgement too.
  for (const [, seqs] of SEQUENCES) {
    for (const hex of seqs) {
      const b = Buffer.from(hex, 'hex');
      const k = utf8FailPoint(b);
      if (k > 0) t.notOk(isUtf8(b.subarray(0, k)), `${hex.slice(0, 24)} prefix ${k} invalid`);
    }
  }
});

t.test('deflate helper round-trips with and without context takeover', async (t) => {
  for (const noContextTakeover of [false, true]) {
    for (const windowBits of [8, 9, 15]) {
      const d = new PeerDeflater({ windowBits, noContextTakeover });
      const i = new PeerInflater({ windowBits, noContextTakeover });
      for (const msg of ['Hello', 'Hello', '', 'x'.repeat(5000)]) {
        const c = await d.compress(msg);
        t.not(c.subarray(-4).toString('hex'), '0000ffff', 'tail stripped');
        t.equal((await i.inflate(c)).toString(), msg);
      }
      d.close();
      i.close();
    }
  }
  // With context takeover the second identical message is a back-reference, shorter than the first.
  const d = new PeerDeflater();
  const first = await d.compress('context takeover context takeover');
  const second = await d.compress('context takeover context takeover');
  t.ok(second.length < first.length);
  d.close();
});

t.test('permessage-deflate response parser', async (t) => {
  t.equal(parseDeflateResponse(undefined), null);
  t.same(parseDeflateResponse('permessage-deflate; server_no_context_takeover; client_max_window_bits=10'),
    { serverNoContextTakeover: true, clientNoContextTakeover: false, clientMaxWindowBits: 10 });
  t.same(parseDeflateResponse('permessage-deflate; server_max_window_bits="9"'),
    { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 9 });
  t.throws(() => parseDeflateResponse('permessage-deflate; client_max_window_bits'));
  t.throws(() => parseDeflateResponse('permessage-deflate; server_max_window_bits=7'));
  t.throws(() => parseDeflateResponse('permessage-deflate; foo'));
  t.throws(() => parseDeflateResponse('permessage-deflate; server_no_context_takeover; server_no_context_takeover'));
  t.throws(() => parseDeflateResponse('permessage-deflate, permessage-deflate'));
  t.throws(() => parseDeflateResponse('x-other'));
});

t.test('scripted client and scripted server talk to each other byte for byte', async (t) => {
  t.equal(acceptFor('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  const server = await scriptedServer(() => ({ headers: { 'X-Test': 'yes' } }));
  t.teardown(() => server.close());
  const accepted = server.accept();
  const hs = await dial(server.port, { extensions: 'permessage-deflate' });
  t.equal(hs.status, 101);
  t.equal(hs.headers['x-test'], 'yes');
  const { peer: srv, request } = await accepted;
  t.equal(request.headers['sec-websocket-extensions'], 'permessage-deflate');
  const cli = hs.peer!;
  await cli.send([{ opcode: OP.TEXT, payload: 'ab', fin: false }, { opcode: OP.PING, payload: 'p' }, { opcode: OP.CONT, payload: 'cd' }], { chunk: 1 });
  await srv.waitEvents(2);
  t.same(srv.events.map((e) => e.kind), ['ping', 'message']);
  t.equal(srv.events[1].kind === 'message' && srv.events[1].data.toString(), 'abcd');
  t.same(srv.violations, [], 'client frames are masked');
  await srv.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
  await cli.waitClose();
  t.equal(cli.close?.code, 1000);
  t.same(cli.violations, [], 'server frames are unmasked');
  srv.end();
  await cli.waitRemoteClosed();
  t.ok(cli.remoteClosed);
});

t.test('a wrong Sec-WebSocket-Accept is not taken as an upgrade', async (t) => {
  const server = net.createServer((s) => {
    s.once('data', () => {
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const hs = await dial((server.address() as net.AddressInfo).port);
  t.equal(hs.status, 101);
  t.equal(hs.peer, undefined, 'a wrong Sec-WebSocket-Accept gives no peer');
  hs.socket.destroy();
});

t.test('the peer flags frames the library must never send', async (t) => {
  const server = await scriptedServer();
  t.teardown(() => server.close());
  const accepted = server.accept();
  const cli = (await dial(server.port)).peer!;
  const { peer: srv } = await accepted;
  await srv.send([{ opcode: OP.TEXT, payload: 'masked', mask: true }, { opcode: OP.PING, payload: 'x', fin: false },
    { opcode: OP.CONT, payload: 'stray' }, { opcode: 3 }]);
  await cli.send({ opcode: OP.TEXT, payload: 'unmasked', mask: false });
  await cli.waitFor(() => cli.violations.length >= 4, 2000, 'violations');
  await srv.waitFor(() => srv.violations.length >= 1, 2000, 'violations');
  t.match(cli.violations.join('\n'), /masked from a server/);
  t.match(cli.violations.join('\n'), /invalid control frame 9/);
  t.match(cli.violations.join('\n'), /continuation without a message/);
  t.match(cli.violations.join('\n'), /reserved data opcode 3/);
  t.match(srv.violations.join('\n'), /unmasked from a client/);
  cli.destroy();
  srv.destroy();
});
