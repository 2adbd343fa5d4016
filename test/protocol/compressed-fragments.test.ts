// A compressed message split into many tiny fragments must not cost one inflate
// call per fragment (CPU amplification): small fragments are gathered first.
import t from 'tap';
import { deflateRawSync, constants } from 'node:zlib';
import type { MessageTransform } from '../../lib/protocol/extension.js';
import { PerMessageDeflate, type DeflateParams } from '../../lib/extensions/permessage-deflate.js';
import { cframe } from '../helpers/frames.js';
import { Recorder } from './fixtures/recorder.js';

/** Compressed payload of `text` as a permessage-deflate sender produces it (sync flush, tail removed). */
function compressed(text: string): Buffer {
  const out = deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** The frames of one compressed text message cut into `size`-byte fragments. */
function fragmented(payload: Buffer, size: number): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < payload.length; i += size) {
    const first = i === 0;
    const last = i + size >= payload.length;
    frames.push(cframe({ opcode: first ? 0x1 : 0x0, rsv1: first, fin: last, payload: payload.subarray(i, i + size) }));
  }
  return Buffer.concat(frames);
}

function counting(inner: MessageTransform): { transform: MessageTransform; calls: () => number } {
  let n = 0;
  return {
    transform: {
      compress: (d, f, cb) => inner.compress(d, f, cb),
      decompress: (d, f, cb) => { n++; inner.decompress(d, f, cb); },
      dispose: () => inner.dispose(),
    },
    calls: () => n,
  };
}

const params: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

t.test('one-byte compressed fragments are inflated in batches, and the message arrives intact', async (t) => {
  const text = Array.from({ length: 4000 }, (_, i) => `line ${i} of a chatty message\n`).join('');
  const payload = compressed(text);
  const { transform, calls } = counting(new PerMessageDeflate('server', params, { maxPayload: 1 << 30 }));
  const rec = new Recorder({ role: 'server', transform });
  rec.feed(fragmented(payload, 1));
  while (rec.messages.length === 0 && rec.errors.length === 0) await new Promise((r) => setImmediate(r));
  t.same(rec.errors, []);
  t.equal(rec.messages[0]?.toString(), text);
  const fragments = payload.length;
  t.ok(calls() <= Math.ceil(fragments / (16 * 1024)) + 1, `${calls()} inflate calls for ${fragments} fragments`);
  transform.dispose();
});

t.test('gathered fragments still hit maxPayload on the inflated size (1009)', async (t) => {
  const payload = compressed('a'.repeat(200_000));
  const rec = new Recorder({ role: 'server', transform: new PerMessageDeflate('server', params, { maxPayload: 100_000 }), maxPayload: 100_000 });
  rec.feed(fragmented(payload, 3));
  while (rec.errors.length === 0 && rec.messages.length === 0) await new Promise((r) => setImmediate(r));
  t.equal(rec.errors[0]?.closeCode, 1009);
  t.equal(rec.messages.length, 0);
});
