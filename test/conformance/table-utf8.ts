/**
 * Autobahn section 6: UTF-8 in text messages. Each sequence runs whole, one byte per
 * frame and one byte per write; invalid ones also run "fail fast": only the bytes up to
 * the point where they can no longer be valid are sent (as fragments, and as the start of
 * a longer frame) and the 1007 close must arrive before anything else is sent.
 */
import { F, text, type Case, type Step } from './runner.js';
import { utf8FailPoint } from './utf8.js';
import { h, HELLO, KOSME, SEQUENCES } from './sequences.js';

/** One byte per frame: fin only on the last. */
function perByteFrames(b: Buffer) {
  if (b.length === 0) return [F.text('')];
  return [...b].map((x, i) => (i === 0 ? F.text : F.cont)(Buffer.from([x]), { fin: i === b.length - 1 }));
}

function variants(id: string, b: Buffer, valid: boolean, midFrame: boolean): Case[] {
  const result = valid ? { events: [text(b)], close: 1000 } : { close: 1007 };
  const cases: Case[] = [
    { id: `${id}.whole`, title: `${b.toString('hex').slice(0, 40)} whole`, steps: [{ send: F.text(b) }], ...result },
    { id: `${id}.frames`, title: 'one byte per frame', steps: [{ send: perByteFrames(b) }], ...result },
    { id: `${id}.bytes`, title: 'one byte per write', steps: [{ send: F.text(b), chunk: 1 }], ...result },
  ];
  const k = utf8FailPoint(b);
  if (!valid && k > 0) {
    const prefix = b.subarray(0, k);
    // The sentinel ping must not be answered: a strict endpoint has failed before reading it.
    const failFrames: Step[] = [{ send: [F.text(prefix.subarray(0, Math.max(0, k - 1)), { fin: false }), F.cont(prefix.subarray(k - 1), { fin: false }), F.ping('sentinel')] }, { awaitClose: true }];
    const longFrame = F.text(Buffer.concat([b, Buffer.alloc(256, '*')]));
    cases.push({ id: `${id}.fast-frames`, title: `fail fast: ${k} bytes in unfinished fragments, then a ping: close, no pong`, steps: failFrames, close: 1007 });
    // Nothing can follow inside an unfinished frame, so only a wait shows the close is early:
    // run it once per group to bound the time a lenient library costs.
    if (midFrame) cases.push({ id: `${id}.fast-frame`, title: `fail fast: first ${k} payload bytes of an unfinished frame`, steps: [{ prefix: longFrame, payloadBytes: k }, { awaitClose: true }], close: 1007 });
  }
  return cases;
}

export const utf8Cases: Case[] = [
  { id: '6.1.1', title: 'empty text', steps: [{ send: F.text('') }], events: [text('')], close: 1000 },
  { id: '6.1.2', title: 'three empty fragments', steps: [{ send: [F.text('', { fin: false }), F.cont('', { fin: false }), F.cont('')] }], events: [text('')], close: 1000 },
  { id: '6.1.3', title: 'empty, non-empty, empty fragments', steps: [{ send: [F.text('', { fin: false }), F.cont('middle', { fin: false }), F.cont('')] }], events: [text('middle')], close: 1000 },
  { id: '6.2.1', title: 'valid text fragmented on code points', steps: [{ send: [F.text(HELLO.subarray(0, 8), { fin: false }), F.cont(HELLO.subarray(8, 13), { fin: false }), F.cont(HELLO.subarray(13))] }], events: [text(HELLO)], close: 1000 },
  { id: '6.2.2', title: 'valid text fragmented inside code points', steps: [{ send: [F.text(HELLO.subarray(0, 7), { fin: false }), F.cont(HELLO.subarray(7, 12), { fin: false }), F.cont(HELLO.subarray(12))] }], events: [text(HELLO)], close: 1000 },
  { id: '6.4.1', title: 'invalid code point in the 2nd of 3 fragments: close before the 3rd is sent', steps: [{ send: F.text(KOSME, { fin: false }) }, { sleep: 20 }, { send: [F.cont(h('f4908080'), { fin: false }), F.ping('sentinel')] }, { awaitClose: true }], close: 1007 },
  { id: '6.4.2', title: 'f4 ends the 1st fragment, 90 starts the 2nd: close before the 3rd is sent', steps: [{ send: F.text(Buffer.concat([KOSME, h('f4')]), { fin: false }) }, { sleep: 20 }, { send: [F.cont(h('90'), { fin: false }), F.ping('sentinel')] }, { awaitClose: true }], close: 1007 },
  { id: '6.4.3', title: 'one frame in 3 writes, invalid in the 2nd: close before the 3rd', steps: [{ prefix: F.text(Buffer.concat([KOSME, h('f4908080'), Buffer.from('edited')])), payloadBytes: 11 + 4 }, { awaitClose: true }], close: 1007 },
  { id: '6.4.4', title: 'one frame, writes end right after the invalid byte: close at once', steps: [{ prefix: F.text(Buffer.concat([KOSME, h('f4908080'), Buffer.from('edited')])), payloadBytes: 11 + 2 }, { awaitClose: true }], close: 1007 },
  ...SEQUENCES.flatMap(([group, seqs, valid]) => seqs.flatMap((hex, i) => variants(`${group}.${i + 1}`, h(hex), valid, i === 0))),
];
