// Issue 11, "Streaming a message out": the exact frames of ws.sendStream() on the wire. Each chunk is
// held until the next arrives or the source ends, so the last chunk carries FIN; an empty source is
// one empty FIN frame. With permessage-deflate (RFC 7692 7.2.1) the message is one DEFLATE stream:
// RSV1 on the first frame only, every fragment sync-flushed, the final one without 00 00 ff ff.
import { constants, deflateRawSync } from 'node:zlib';
import t from 'tap';
import { OP, type Frame } from '../helpers/frames.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { PeerInflater } from '../conformance/deflate.js';
import { serve, type Test } from './setup.js';

const MARKER = [0x00, 0x00, 0xff, 0xff];

/** The data frames of one sendStream() of `parts` from a server to a raw peer, as [opcode, fin, rsv, payload hex]. */
async function framesOf(t: Test, parts: string[], deflate: boolean): Promise<Frame[]> {
  const s = await serve(t, deflate ? { perMessageDeflate: { threshold: 0 } } : {});
  const accepted = s.next();
  const peer = await RawPeer.upgrade(s.port, { deflate });
  t.teardown(() => peer.destroy());
  const ws = await accepted;
  async function* source(): AsyncGenerator<Buffer> {
    // A pause between chunks: the end of the source is not known when a chunk arrives.
    for (const p of parts) {
      await new Promise((r) => setImmediate(r));
      yield Buffer.from(p);
    }
  }
  await ws.sendStream(source());
  await peer.untilFrame((f) => f.fin && f.opcode < 8);
  return peer.frames.filter((f) => f.opcode < 8);
}

const shape = (frames: Frame[]) => frames.map((f) => [f.opcode, f.fin, f.rsv]);

t.test('uncompressed: empty source, one chunk, several chunks', async (t) => {
  const empty = await framesOf(t, [], false);
  t.same(empty.map((f) => [f.opcode, f.fin, f.rsv, f.payload.length]), [[OP.BINARY, true, 0, 0]], 'an empty source: one empty FIN frame');
  const one = await framesOf(t, ['only'], false);
  t.same(one.map((f) => [f.opcode, f.fin, f.rsv, f.payload.toString()]), [[OP.BINARY, true, 0, 'only']], 'one chunk: one unfragmented frame');
  const several = await framesOf(t, ['a', 'bb', 'ccc'], false);
  t.same(several.map((f) => [f.opcode, f.fin, f.rsv, f.payload.toString()]), [
    [OP.BINARY, false, 0, 'a'],
    [OP.CONT, false, 0, 'bb'],
    [OP.CONT, true, 0, 'ccc'],
  ], 'several chunks: FIN on the last, no empty final frame');
});

t.test('permessage-deflate: empty source, one chunk, several chunks', async (t) => {
  // The reference: zlib's raw deflate of the same bytes, sync-flushed, with the marker removed.
  const deflated = (s: string): string => {
    const out = deflateRawSync(Buffer.from(s), { finishFlush: constants.Z_SYNC_FLUSH });
    t.same([...out.subarray(-4)], MARKER);
    return out.subarray(0, -4).toString('hex');
  };

  const empty = await framesOf(t, [], true);
  t.same(empty.map((f) => [f.opcode, f.fin, f.rsv, f.payload.toString('hex')]), [[OP.BINARY, true, 4, '00']],
    'an empty source: one FIN frame with RSV1 holding an empty stored block (RFC 7692 7.2.3.6)');

  const one = await framesOf(t, ['hello hello hello'], true);
  t.same(one.map((f) => [f.opcode, f.fin, f.rsv, f.payload.toString('hex')]), [[OP.BINARY, true, 4, deflated('hello hello hello')]],
    'one chunk: one frame, exactly the compressed message');

  const parts = ['abcabcabcabc'.repeat(20), 'xyz'.repeat(50), 'abcabcabcabc'.repeat(20)];
  const several = await framesOf(t, parts, true);
  t.same(shape(several), [[OP.BINARY, false, 4], [OP.CONT, false, 0], [OP.CONT, true, 0]], 'RSV1 on the first frame only, FIN on the last chunk');
  for (const f of several.slice(0, -1)) t.same([...f.payload.subarray(-4)], MARKER, 'a non-final fragment ends sync-flushed');
  t.notSame([...several.at(-1)!.payload.subarray(-4)], MARKER, 'the final fragment has the marker removed');
  const inflater = new PeerInflater();
  t.teardown(() => inflater.close());
  const joined = await inflater.inflate(Buffer.concat(several.map((f) => f.payload)));
  t.equal(joined.toString(), parts.join(''), 'the peer inflates the concatenated payloads to the exact bytes');
});
