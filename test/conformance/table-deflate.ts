/**
 * Autobahn sections 12 and 13: permessage-deflate (RFC 7692) data with every parameter
 * combination, fragmented, with and without context takeover, plus the failures a
 * compressed stream can cause.
 */
import zlib from 'node:zlib';
import { binary, F, text, type Case, type Step, type Expected } from './runner.js';

/** Compressible text (words) and incompressible binary, deterministic. */
export function words(n: number, seed = 1): Buffer {
  const vocab = ['websocket', 'frame', 'deflate', 'κόσμε', 'message', 'context', 'window', 'ping', 'close', 'ünïcödé'];
  const parts: string[] = [];
  let x = seed;
  let len = 0;
  while (len < n) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const w = vocab[x % vocab.length] + ' ';
    parts.push(w);
    len += Buffer.byteLength(w);
  }
  // Cut at a character boundary: drop whole words until at most n bytes remain, pad with spaces.
  let b = Buffer.from(parts.join(''));
  while (b.length > n) { parts.pop(); b = Buffer.from(parts.join('')); }
  return Buffer.concat([b, Buffer.alloc(n - b.length, ' ')]);
}

export function noise(n: number, seed = 7): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1664525 + 1013904223) >>> 0; b[i] = x >>> 24; }
  return b;
}

/** One whole message compressed on a fresh stream, tail stripped (valid as a first message). */
export function deflateOnce(data: Buffer, windowBits = 15): Buffer {
  const out = zlib.deflateRawSync(data, { windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** A small conversation exercising context takeover, fragmentation and one-byte writes. */
function conversation(big: number): { steps: Step[]; events: Expected[] } {
  const w = words(big);
  const n = noise(4096);
  return {
    steps: [
      { deflate: 'Hello' },
      { deflate: 'Hello' }, // with context takeover this one is a back-reference to the first
      { deflate: w, fragment: Math.max(1, Math.ceil(big / 4)) },
      { deflate: w },
      { deflate: n, binary: true, fragment: 1000 },
      { deflate: words(300, 3), chunk: 1 },
      { send: F.text('plain, uncompressed') },
      { deflate: '' },
    ],
    events: [text('Hello'), text('Hello'), text(w), text(w), binary(n), text(words(300, 3)), text('plain, uncompressed'), text('')],
  };
}

const SMWB = [undefined, 8, 9, 12, 15];
const CMWB: Array<number | true | undefined> = [undefined, true, 8, 12, 15];

/** Offers a client may make: every combination of the four parameters. */
export function allOffers(): string[] {
  const out: string[] = [];
  for (const snct of [false, true]) for (const cnct of [false, true]) for (const s of SMWB) for (const c of CMWB) {
    const p = ['permessage-deflate'];
    if (snct) p.push('server_no_context_takeover');
    if (cnct) p.push('client_no_context_takeover');
    if (s !== undefined) p.push(`server_max_window_bits=${s}`);
    if (c === true) p.push('client_max_window_bits'); else if (c !== undefined) p.push(`client_max_window_bits=${c}`);
    out.push(p.join('; '));
  }
  return out;
}

/** Answers a server may give, as a function of the client's actual offer. */
export function allAnswers(): Array<{ name: string; answer: (offer: string) => string }> {
  const out: Array<{ name: string; answer: (offer: string) => string }> = [];
  for (const snct of [false, true]) for (const cnct of [false, true]) for (const s of [undefined, 8, 12, 15]) for (const c of [undefined, 8, 12, 15]) {
    const p = ['permessage-deflate'];
    if (snct) p.push('server_no_context_takeover');
    if (cnct) p.push('client_no_context_takeover');
    if (s !== undefined) p.push(`server_max_window_bits=${s}`);
    const name = p.join('; ') + (c === undefined ? '' : `; client_max_window_bits=${c}`);
    out.push({
      name,
      // client_max_window_bits may only be answered when offered (RFC 7692 section 7.1.2.2).
      answer: (offer) => (c !== undefined && /client_max_window_bits/.test(offer) ? `${p.join('; ')}; client_max_window_bits=${c}` : p.join('; ')),
    });
  }
  return out;
}

/** A server answer accepting exactly the client's first offer (a bare client_max_window_bits is dropped). */
export function mirror(offer: string): string {
  const [name, ...params] = offer.split(',')[0].split(';').map((x) => x.trim());
  return [name, ...params.filter((p) => p !== 'client_max_window_bits')].join('; ');
}

/** Client configurations: every combination of the four parameters the library client can request. */
export function allClientOptions(): Array<Record<string, boolean | number>> {
  const out: Array<Record<string, boolean | number>> = [];
  for (const snct of [false, true]) for (const cnct of [false, true]) for (const s of [undefined, 9, 15]) for (const c of [undefined, 9, 15]) {
    const o: Record<string, boolean | number> = { threshold: 0 };
    if (snct) o.serverNoContextTakeover = true;
    if (cnct) o.clientNoContextTakeover = true;
    if (s !== undefined) o.serverMaxWindowBits = s;
    if (c !== undefined) o.clientMaxWindowBits = c;
    out.push(o);
  }
  return out;
}

const DEFAULT = { offer: 'permessage-deflate; client_max_window_bits', answer: 'permessage-deflate' };
const SIZES = [16, 64, 256, 1024, 4096, 16384, 65536, 262144];

export const deflateDataCases: Case[] = [
  ...SIZES.flatMap((size, i): Case[] => [
    { id: `12.1.${i + 1}`, title: `10 compressed text messages of ${size} B`, deflate: DEFAULT, expectCompressed: true,
      steps: () => Array.from({ length: 10 }, (_, j) => ({ deflate: words(size, j) })), events: () => Array.from({ length: 10 }, (_, j) => text(words(size, j))), close: 1000 },
    { id: `12.2.${i + 1}`, title: `10 compressed binary messages of ${size} B`, deflate: DEFAULT, expectCompressed: true,
      steps: () => Array.from({ length: 10 }, (_, j) => ({ deflate: noise(size, j), binary: true })), events: () => Array.from({ length: 10 }, (_, j) => binary(noise(size, j))), close: 1000 },
    { id: `12.5.${i + 1}`, title: `10 compressed text messages of ${size} B in 4 fragments`, deflate: DEFAULT, expectCompressed: true,
      steps: () => Array.from({ length: 10 }, (_, j) => ({ deflate: words(size, j), fragment: Math.max(1, Math.ceil(size / 16)) })), events: () => Array.from({ length: 10 }, (_, j) => text(words(size, j))), close: 1000 },
  ]),
  { id: '12.6.1', title: 'empty compressed message as zero bytes', deflate: DEFAULT, steps: [{ send: F.text('', { rsv: 4 }) }], events: [text('')], close: 1000 },
  { id: '12.6.2', title: 'empty compressed message as a single 00 byte', deflate: DEFAULT, steps: [{ send: F.text(Buffer.from([0]), { rsv: 4 }) }], events: [text('')], close: 1000 },
  { id: '12.6.3', title: 'compressed ping-interleaved fragments', deflate: DEFAULT, steps: () => {
    const c = deflateOnce(words(3000));
    const third = Math.ceil(c.length / 3);
    return [{ send: [F.text(c.subarray(0, third), { rsv: 4, fin: false }), F.ping('p'), F.cont(c.subarray(third, 2 * third), { fin: false }), F.cont(c.subarray(2 * third))] }];
  }, events: () => [{ kind: 'pong', data: Buffer.from('p') }, text(words(3000))], close: 1000 },
  { id: '12.7.1', title: 'RSV1 on a continuation frame', deflate: DEFAULT, steps: () => {
    const c = deflateOnce(words(100));
    return [{ send: [F.text(c.subarray(0, 10), { rsv: 4, fin: false }), F.cont(c.subarray(10), { rsv: 4 })] }];
  }, close: 1002 },
  { id: '12.7.2', title: 'RSV1 on a ping', deflate: DEFAULT, steps: [{ send: F.ping('x', { rsv: 4 }) }], close: 1002 },
  { id: '12.7.3', title: 'RSV2 on a compressed message', deflate: DEFAULT, steps: [{ send: F.text(deflateOnce(Buffer.from('Hello')), { rsv: 6 }) }], close: 1002 },
  { id: '12.7.4', title: 'corrupt compressed data', deflate: DEFAULT, steps: [{ send: F.text(Buffer.from('ffffffffffff', 'hex'), { rsv: 4 }) }], close: 1007 },
  { id: '12.7.5', title: 'compressed text that inflates to invalid UTF-8', deflate: DEFAULT, steps: [{ send: F.text(deflateOnce(Buffer.from('48656c6c6fc0af', 'hex')), { rsv: 4 }) }], close: 1007 },
  { id: '12.7.6', title: '80 MiB of zeros compressed to ~80 KiB (limit 64 MiB)', deflate: DEFAULT, timeoutMs: 20_000,
    steps: () => [{ send: F.binary(deflateOnce(Buffer.alloc(80 * 1024 * 1024)), { rsv: 4 }) }], close: 1009 },
  { id: '12.7.7', title: 'RSV1 without a negotiated extension', steps: [{ send: F.text(deflateOnce(Buffer.from('Hello')), { rsv: 4 }) }], close: 1002 },
  { id: '12.7.8', title: 'compressed binary, then uncompressed fragmented text', deflate: DEFAULT, steps: () => [
    { deflate: noise(100), binary: true }, { send: [F.text('ab', { fin: false }), F.cont('cd')] }], events: () => [binary(noise(100)), text('abcd')], close: 1000 },
];

/** Section 13: the conversation under every parameter combination, per role. */
export const deflateParamCases: Case[] = [
  ...allOffers().map((offer, i): Case => ({
    id: `13.1.${i + 1}`, title: `offer "${offer}"`, roles: ['server'], deflate: { offer }, expectCompressed: true,
    steps: () => conversation(20000).steps, events: () => conversation(20000).events, close: 1000,
  })),
  ...allAnswers().map(({ name, answer }, i): Case => ({
    id: `13.2.${i + 1}`, title: `answer "${name}"`, roles: ['client'], deflate: { answer }, expectCompressed: true,
    steps: () => conversation(20000).steps, events: () => conversation(20000).events, close: 1000,
  })),
  ...allClientOptions().map((client, i): Case => ({
    id: `13.3.${i + 1}`, title: `client options ${JSON.stringify(client)}, server accepts the offer as made`, roles: ['client'],
    deflate: { client, answer: mirror }, expectCompressed: true,
    steps: () => conversation(20000).steps, events: () => conversation(20000).events, close: 1000,
  })),
];

