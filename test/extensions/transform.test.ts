import t from 'tap';
import * as zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { PerMessageDeflate, DEFAULT_THRESHOLD } from '../../lib/extensions/permessage-deflate.js';
import { SYNC_INFLATE_OUTPUT } from '../../lib/extensions/decompressor.js';
import { SYNC_INPUT_LIMIT } from '../../lib/extensions/zlib-direction.js';
import { ProtocolError, InvalidArgumentError } from '../../lib/errors.js';
import { compress, decompress, defaultParams, hex, pair } from './helpers.js';
import { countWrites } from '../helpers/count-writes.js';

const HELLO = hex('f2 48 cd c9 c9 07 00');
const HELLO_AGAIN = hex('f2 00 11 00 00'); // "Hello" referring back to the previous message

/** Text-ish data that compresses and has long back-references. */
function sample(size: number, seed = 1): Buffer {
  const words = ['alpha', 'beta', 'gamma', 'delta', '{"id":', '"name":"', '},', ' ', '\n', 'websocket', 'deflate'];
  const parts: string[] = [];
  let x = seed, len = 0;
  while (len < size) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const w = words[x % words.length]! + (x % 97);
    parts.push(w);
    len += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

t.test('defaults and parameters', async (t) => {
  const d = new PerMessageDeflate('server', defaultParams(), { maxPayload: 0 });
  t.equal(d.threshold, DEFAULT_THRESHOLD);
  t.equal(DEFAULT_THRESHOLD, 1024);
  t.equal(new PerMessageDeflate('client', defaultParams(), { maxPayload: 0, threshold: 0 }).threshold, 0);
  t.throws(() => new PerMessageDeflate('server', defaultParams({ serverMaxWindowBits: 16 }), { maxPayload: 0 }), InvalidArgumentError);
  t.throws(() => new PerMessageDeflate('server', defaultParams(), { maxPayload: -1 }), InvalidArgumentError);
  t.throws(() => new PerMessageDeflate('bogus' as 'server', defaultParams(), { maxPayload: 1 }), InvalidArgumentError);
  d.dispose();
});

for (const [label, params] of [
  ['context takeover both ways', {}],
  ['no context takeover both ways', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
  ['small windows', { serverMaxWindowBits: 9, clientMaxWindowBits: 10 }],
  ['8-bit windows', { serverMaxWindowBits: 8, clientMaxWindowBits: 8 }],
] as const) {
  t.test(`round trip, both directions, whole and fragmented: ${label}`, async (t) => {
    const { server, client } = pair(params);
    t.teardown(() => { server.dispose(); client.dispose(); });
    for (const [from, to] of [[server, client], [client, server]] as const) {
      for (const size of [0, 1, 100, 5000, 70_000, 300_000]) {
        const data = sample(size, size + 1);
        const wire = await compress(from, data);
        if (size >= 5000) t.ok(wire.length < size / 2, `${size} bytes compressed to ${wire.length}`);
        t.same(await decompress(to, wire), data, `whole ${size}`);
        // Fragmented: compress in three pieces, inflate the pieces in order.
        const a = size / 3 | 0, b = (2 * size) / 3 | 0;
        const frags = [await compress(from, data.subarray(0, a), false), await compress(from, data.subarray(a, b), false), await compress(from, data.subarray(b), true)];
        t.equal(await decompress(to, frags[0]!, false), undefined);
        t.equal(await decompress(to, frags[1]!, false), undefined);
        t.same(await decompress(to, frags[2]!, true), data, `fragmented ${size}`);
      }
    }
  });
}

t.test('an uncompressed message between compressed ones: context takeover still decodes', async (t) => {
  // Message 1 compressed, message 2 sent without RSV1 (the connection bypasses
  // the transform), message 3 compressed referring back to message 1.
  const { server, client } = pair();
  t.teardown(() => { server.dispose(); client.dispose(); });
  const m1 = await compress(server, 'Hello');
  const m3 = await compress(server, 'Hello');
  t.same(m3, HELLO_AGAIN);
  t.equal((await decompress(client, m1))!.toString(), 'Hello');
  t.equal((await decompress(client, m3))!.toString(), 'Hello');
});

t.test('no context takeover: the inflater is reset per message and the deflater released', async (t) => {
  const { server, client } = pair({ serverNoContextTakeover: true });
  t.teardown(() => { server.dispose(); client.dispose(); });
  t.equal((await decompress(client, HELLO))!.toString(), 'Hello');
  // A back-reference into the previous message must now fail: the window was dropped.
  await t.rejects(decompress(client, HELLO_AGAIN), { code: 'ERR_WS_INVALID_PAYLOAD', closeCode: 1007 });
  await compress(server, sample(10_000));
  t.equal((server as any).compressor.stream, null, 'server compressor holds no zlib context between messages');
  await compress(client, sample(10_000));
  t.not((client as any).compressor.stream, null, 'client (context takeover) keeps it');
});

t.test('no context takeover: small whole messages compressed at once, the same bytes as a zlib stream gives, ending in a sync flush', async (t) => {
  const { server } = pair({ serverNoContextTakeover: true });
  t.teardown(() => server.dispose());
  // One inflater kept across messages (a client may keep it: our messages never refer back). A
  // message ended with a final block (Z_FINISH) would end that inflater's stream after message 1.
  const inflater = zlib.createInflateRaw({ windowBits: 15 });
  t.teardown(() => inflater.close());
  const inflate = (wire: Buffer): Promise<Buffer> => new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const onData = (c: Buffer): void => { out.push(c); };
    inflater.on('data', onData);
    inflater.once('error', reject);
    inflater.write(Buffer.concat([wire, hex('00 00 ff ff')]));
    inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => { inflater.off('data', onData); inflater.off('error', reject); resolve(Buffer.concat(out)); });
  });
  const fresh = (data: Buffer): Promise<Buffer> => new Promise((resolve) => {
    const z = zlib.createDeflateRaw({ windowBits: 15, flush: zlib.constants.Z_SYNC_FLUSH });
    const out: Buffer[] = [];
    z.on('data', (c: Buffer) => out.push(c));
    z.write(data, () => { z.close(); resolve(Buffer.concat(out)); });
  });
  // Count writes to zlib streams (the one-shot synchronous call makes none).
  const writes = countWrites(t, zlib.DeflateRaw.prototype);
  for (const size of [0, 1, 1024, SYNC_INPUT_LIMIT, SYNC_INPUT_LIMIT + 1, 40_000]) {
    const data = sample(size, size + 3);
    const writesBefore = writes.count();
    let returned = false;
    let calledInside = false;
    const wire = await new Promise<Buffer>((resolve, reject) => {
      server.compress(data, true, (err, out) => { calledInside = !returned; err ? reject(err) : resolve(out!); });
      returned = true;
    });
    t.notOk(calledInside, `${size}: the callback comes after compress() returns`);
    t.equal(writes.count() - writesBefore, size <= SYNC_INPUT_LIMIT ? 0 : 1, `${size}: ${size <= SYNC_INPUT_LIMIT ? 'one synchronous call, no zlib stream' : 'a zlib stream'}`);
    const expected = await fresh(data);
    t.same(expected.subarray(-4), hex('00 00 ff ff'));
    t.same(wire, size === 0 ? hex('00') : expected.subarray(0, -4), `${size}: the bytes a zlib stream gives, flush marker removed`);
    t.equal(wire[0]! & 1, 0, `${size}: the first block is not final`);
    t.same(await inflate(wire), data, `${size}: inflates on an inflater kept from the message before`);
    t.equal((server as any).compressor.stream, null, `${size}: no zlib context held after the message`);
  }
});

t.test('peer without context takeover: small whole messages inflated at once, with the same checks as the stream', async (t) => {
  // Count writes to inflate streams (the one-shot synchronous call makes none).
  const writes = countWrites(t, zlib.InflateRaw.prototype);
  const { server, client } = pair({ serverNoContextTakeover: true });
  t.teardown(() => { server.dispose(); client.dispose(); });
  const zeros = Buffer.alloc(SYNC_INFLATE_OUTPUT + 1);
  for (const data of [Buffer.alloc(0), Buffer.from('Hello'), sample(20_000, 5), zeros]) {
    const wire = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    const sync = wire.length <= SYNC_INPUT_LIMIT && data.length <= SYNC_INFLATE_OUTPUT;
    const before = writes.count();
    let returned = false;
    let calledInside = false;
    const out = await new Promise<Buffer | undefined>((resolve, reject) => {
      client.decompress(wire, true, (err, o) => { calledInside = !returned; err ? reject(err) : resolve(o); });
      returned = true;
    });
    t.notOk(calledInside, `${data.length} bytes: the callback comes after decompress() returns`);
    t.ok(out!.equals(data), `${data.length} bytes (${wire.length} compressed) inflate`);
    t.equal(writes.count() - before > 0, !sync, `${data.length} bytes: ${sync ? 'one synchronous call' : 'the stream'}`);
    t.equal((client as any).decompressor.stream, null, 'no zlib context held after the message');
  }
  t.ok(zlib.deflateRawSync(zeros).length <= SYNC_INPUT_LIMIT, 'the bomb-like message is small enough for the synchronous call');
  // A peer that left the flush marker on: no second trailer.
  t.equal((await decompress(client, Buffer.concat([HELLO, hex('00 00 ff ff')])))!.toString(), 'Hello');
  // The limit: exact passes, one byte less fails with 1009 (inside the synchronous call's cap).
  const five = zlib.deflateRawSync(sample(5000, 2), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
  for (const [limit, ok] of [[5000, true], [4999, false]] as const) {
    const c = new PerMessageDeflate('client', defaultParams({ serverNoContextTakeover: true }), { maxPayload: limit });
    if (ok) t.same(await decompress(c, five), sample(5000, 2));
    else await t.rejects(decompress(c, five), { constructor: ProtocolError, closeCode: 1009, code: 'ERR_WS_MESSAGE_TOO_BIG' });
    c.dispose();
  }
  // Corrupt data and bytes after a final block: 1007, and the transform stays failed.
  for (const bad of [hex('ff ff ff ff'), hex('f3 48 cd c9 c9 07 00 aa bb cc dd')]) {
    const c = new PerMessageDeflate('client', defaultParams({ serverNoContextTakeover: true }), { maxPayload: 0 });
    await t.rejects(decompress(c, bad), { code: 'ERR_WS_INVALID_PAYLOAD', closeCode: 1007 }, bad.toString('hex'));
    await t.rejects(decompress(c, HELLO), { code: 'ERR_WS_INVALID_PAYLOAD', closeCode: 1007 }, 'later calls fail too');
    c.dispose();
  }
  // A message ended by a final block (RFC 7692 7.2.3.4) is accepted.
  const c = new PerMessageDeflate('client', defaultParams({ serverNoContextTakeover: true }), { maxPayload: 0 });
  t.equal((await decompress(c, hex('f3 48 cd c9 c9 07 00')))!.toString(), 'Hello');
  t.equal((await decompress(c, HELLO))!.toString(), 'Hello', 'and the next message inflates on its own');
  c.dispose();
});

t.test('compressing: an empty last fragment after flushed fragments', async (t) => {
  const { server, client } = pair();
  t.teardown(() => { server.dispose(); client.dispose(); });
  const f1 = await compress(server, 'Hel', false);
  t.same(f1.subarray(-4), hex('00 00 ff ff'), 'non-final fragments keep their flush marker');
  const f2 = await compress(server, '', true);
  t.same(f2, hex('00'), 'an empty stored-block header closes the message');
  t.equal(await decompress(client, f1, false), undefined);
  t.equal((await decompress(client, f2, true))!.toString(), 'Hel');
  t.equal((await decompress(client, await compress(server, 'lo')))!.toString(), 'lo', 'streams still in step');
});

t.test('inflating: a peer that ends with an unstripped flush marker and an empty last fragment', async (t) => {
  const { client } = pair();
  t.teardown(() => client.dispose());
  const withMarker = Buffer.concat([HELLO, hex('00 00 ff ff')]);
  t.equal(await decompress(client, withMarker, false), undefined);
  t.equal((await decompress(client, Buffer.alloc(0), true))!.toString(), 'Hello');
  t.equal((await decompress(client, HELLO_AGAIN))!.toString(), 'Hello', 'still in step');
});

t.test('inflating: fragments of every size, down to one byte', async (t) => {
  const { server, client } = pair();
  t.teardown(() => { server.dispose(); client.dispose(); });
  const data = sample(20_000, 7);
  const wire = await compress(server, data);
  for (let i = 0; i < wire.length - 1; i++) t.equal(await decompress(client, wire.subarray(i, i + 1), false), undefined);
  t.same(await decompress(client, wire.subarray(wire.length - 1), true), data);
});

t.test('corrupt data fails with 1007 and the transform stays failed', async (t) => {
  const corrupt = [
    hex('ff ff ff ff'),                       // reserved block type
    hex('00 05 00 00 00 48 65 6c 6c 6f'),     // stored block with bad NLEN
    hex('f3 48 cd c9 c9 07 00 aa bb cc dd'), // bytes after the final block
  ];
  for (const c of corrupt) {
    const { client } = pair();
    const err = await decompress(client, c).catch((e) => e);
    t.type(err, ProtocolError, c.toString('hex'));
    t.equal(err.closeCode, 1007);
    t.equal(err.code, 'ERR_WS_INVALID_PAYLOAD');
    await t.rejects(decompress(client, HELLO), { code: 'ERR_WS_INVALID_PAYLOAD', closeCode: 1007 }, 'later calls fail too');
    client.dispose();
  }
  const { client } = pair();
  t.equal(await decompress(client, hex('f3 48 cd c9 c9 07 00'), false), undefined, 'a final block inside the message...');
  await t.rejects(decompress(client, hex('f2 48 cd c9 c9 07 00'), true), { code: 'ERR_WS_INVALID_PAYLOAD', closeCode: 1007 }, '...followed by more data');
  client.dispose();
});

t.test('maxPayload is the inflated size: the exact limit passes, one byte more is 1009', async (t) => {
  const data = sample(100_000, 3);
  const { server } = pair();
  const wire = await compress(server, data);
  server.dispose();
  for (const [limit, ok] of [[100_000, true], [99_999, false]] as const) {
    const client = new PerMessageDeflate('client', defaultParams(), { maxPayload: limit });
    if (ok) t.same(await decompress(client, wire), data);
    else await t.rejects(decompress(client, wire), { constructor: ProtocolError, closeCode: 1009, code: 'ERR_WS_MESSAGE_TOO_BIG' });
    client.dispose();
  }
  // Counted across fragments and reset per message.
  const client = new PerMessageDeflate('client', defaultParams(), { maxPayload: 3 });
  const { server: s } = pair();
  t.equal((await decompress(client, await compress(s, 'abc')))!.toString(), 'abc');
  t.equal((await decompress(client, await compress(s, 'def')))!.toString(), 'def');
  t.equal(await decompress(client, await compress(s, 'gh', false), false), undefined);
  await t.rejects(decompress(client, await compress(s, 'ij', true), true), { code: 'ERR_WS_MESSAGE_TOO_BIG', closeCode: 1009 });
  client.dispose(); s.dispose();
});

t.test('callbacks come back in call order', async (t) => {
  const { server, client } = pair();
  t.teardown(() => { server.dispose(); client.dispose(); });
  const sizes = [300_000, 1, 0, 50_000, 10, 200_000, 3, 0, 1_000_000, 5];
  const inputs = sizes.map((n, i) => sample(n, i + 11));
  const order: number[] = [];
  const wires = await Promise.all(inputs.map((d, i) => new Promise<Buffer>((resolve, reject) => {
    server.compress(d, true, (err, out) => { order.push(i); err ? reject(err) : resolve(out!); });
  })));
  t.same(order, sizes.map((_, i) => i), 'compress');
  order.length = 0;
  const outs = await Promise.all(wires.map((w, i) => new Promise<Buffer>((resolve, reject) => {
    client.decompress(w, true, (err, out) => { order.push(i); err ? reject(err) : resolve(out!); });
  })));
  t.same(order, sizes.map((_, i) => i), 'decompress');
  for (let i = 0; i < inputs.length; i++) t.ok(outs[i]!.equals(inputs[i]!), `message ${i}`);
});

t.test('our output inflates with plain zlib, and zlib output inflates with us', async (t) => {
  const { server, client } = pair({ serverMaxWindowBits: 10 });
  t.teardown(() => { server.dispose(); client.dispose(); });
  const data = sample(40_000, 9);
  const wire = await compress(server, data);
  t.same(zlib.inflateRawSync(Buffer.concat([wire, hex('00 00 ff ff')]), { windowBits: 10, finishFlush: zlib.constants.Z_SYNC_FLUSH }), data);
  const theirs = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  t.same(await decompress(server, theirs.subarray(0, -4)), data);
  const random = randomBytes(100_000);
  t.same(await decompress(server, zlib.deflateRawSync(random, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4)), random);
});

t.test('a burst of thousands of queued calls keeps order (queue compaction path)', async (t) => {
  const { server, client } = pair();
  t.teardown(() => { server.dispose(); client.dispose(); });
  const N = 3000;
  const wires: Buffer[] = [];
  let inOrder = true;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < N; i++) {
      server.compress(Buffer.from(`message ${i}`), true, (err, out) => {
        if (err || wires.length !== i) inOrder = false;
        wires.push(out!);
        if (wires.length === N) resolve();
      });
    }
  });
  t.ok(inOrder, 'compress callbacks in order');
  const outs: string[] = [];
  await new Promise<void>((resolve) => {
    for (const w of wires) {
      client.decompress(w, true, (err, out) => {
        outs.push(err ? 'error' : out!.toString());
        if (outs.length === N) resolve();
      });
    }
  });
  t.ok(outs.every((s, i) => s === `message ${i}`), 'decompress callbacks in order, contents intact');
});
