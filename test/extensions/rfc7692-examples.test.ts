// RFC 7692 section 7.2.3: the byte-exact examples, in both directions where
// the direction is meaningful for our compressor. Frame headers (0xc1 0x07 ...)
// are the core's business; here the payloads, whose lengths match the RFC's
// length bytes.
import t from 'tap';
import { compress, decompress, hex, pair } from './helpers.js';

const HELLO_PAYLOAD = hex('f2 48 cd c9 c9 07 00'); // frame 0xc1 0x07 ...

t.test('7.2.3.1 "Hello" in one compressed DEFLATE block', async (t) => {
  const { server, client } = pair();
  t.teardown(() => { server.dispose(); client.dispose(); });
  const out = await compress(server, 'Hello');
  t.same(out, HELLO_PAYLOAD, 'compressed payload is byte-exact');
  t.equal(out.length, 0x07);
  t.equal((await decompress(client, HELLO_PAYLOAD))!.toString(), 'Hello');
});

t.test('7.2.3.1 fragmented compressed message (0x41 0x03 f2 48 cd / 0x80 0x04 c9 c9 07 00)', async (t) => {
  const { server, client } = pair();
  t.teardown(() => { server.dispose(); client.dispose(); });
  const out = await compress(server, 'Hello');
  t.same(Buffer.concat([hex('f2 48 cd'), hex('c9 c9 07 00')]), out, 'the two fragments are our single-frame payload split');
  t.equal(await decompress(client, hex('f2 48 cd'), false), undefined, 'no message before fin');
  t.equal((await decompress(client, hex('c9 c9 07 00'), true))!.toString(), 'Hello');
});

t.test('7.2.3.2 sharing the LZ77 window across messages', async (t) => {
  const { server, client } = pair();
  t.teardown(() => { server.dispose(); client.dispose(); });
  t.same(await compress(server, 'Hello'), HELLO_PAYLOAD);
  t.same(await compress(server, 'Hello'), hex('f2 00 11 00 00'), 'second message refers back (0xc1 0x05)');
  t.equal((await decompress(client, HELLO_PAYLOAD))!.toString(), 'Hello');
  t.equal((await decompress(client, hex('f2 00 11 00 00')))!.toString(), 'Hello');
});

t.test('7.2.3.2 without context takeover both messages are the same', async (t) => {
  const { server, client } = pair({ serverNoContextTakeover: true });
  t.teardown(() => { server.dispose(); client.dispose(); });
  t.same(await compress(server, 'Hello'), HELLO_PAYLOAD);
  t.same(await compress(server, 'Hello'), HELLO_PAYLOAD);
  t.equal((await decompress(client, HELLO_PAYLOAD))!.toString(), 'Hello');
  t.equal((await decompress(client, HELLO_PAYLOAD))!.toString(), 'Hello');
});

t.test('7.2.3.3 a DEFLATE block with no compression', async (t) => {
  const stored = hex('00 05 00 fa ff 48 65 6c 6c 6f 00'); // frame 0xc1 0x0b ...
  const { server, client } = pair({}, { level: 0 });
  t.teardown(() => { server.dispose(); client.dispose(); });
  t.same(await compress(server, 'Hello'), stored, 'level 0 produces exactly the stored block');
  t.equal((await decompress(client, stored))!.toString(), 'Hello');
});

t.test('7.2.3.4 a DEFLATE block with BFINAL set', async (t) => {
  const { client } = pair();
  t.teardown(() => client.dispose());
  t.equal((await decompress(client, hex('f3 48 cd c9 c9 07 00 00')))!.toString(), 'Hello'); // 0xc1 0x08
  // The stream ended; the next message must still decode (new stream).
  t.equal((await decompress(client, HELLO_PAYLOAD))!.toString(), 'Hello');
  t.equal((await decompress(client, hex('f3 48 cd c9 c9 07 00 00')))!.toString(), 'Hello');
});

t.test('7.2.3.5 two DEFLATE blocks in one message', async (t) => {
  const { client } = pair();
  t.teardown(() => client.dispose());
  const payload = hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00'); // 0xc1 0x0d
  t.equal(payload.length, 0x0d);
  t.equal((await decompress(client, payload))!.toString(), 'Hello');
});

t.test('7.2.3.6 an empty message compresses to a single 0x00', async (t) => {
  const { server, client } = pair();
  t.teardown(() => { server.dispose(); client.dispose(); });
  t.same(await compress(server, ''), hex('00'));
  t.equal((await decompress(client, hex('00')))!.length, 0);
  t.equal((await decompress(client, Buffer.alloc(0)))!.length, 0, 'an empty compressed payload is an empty message');
  t.equal((await decompress(client, HELLO_PAYLOAD))!.toString(), 'Hello', 'stream still in step');
});
