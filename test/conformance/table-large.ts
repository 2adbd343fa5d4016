/** Autobahn section 9: large messages, many fragments, many small writes, many messages. */
import { OP } from '../helpers/frames.js';
import { B, T } from './table-framing.js';
import { binary, F, text, type Case } from './runner.js';

const KiB = 1024;
const MiB = 1024 * 1024;
const SIZES = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB];
const FRAGS = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB];
const CHOPS = [64, 128, 256, 512, 1024, 2048];
const COUNTS: Array<[number, number]> = [[1000, 0], [1000, 16], [1000, 64], [1000, 256], [1000, KiB], [1000, 4 * KiB]];
const LARGE_TIMEOUT = 25_000;

function kinds(isBinary: boolean) {
  return isBinary
    ? { data: B, msg: binary, frame: F.binary, op: OP.BINARY, name: 'binary' }
    : { data: T, msg: text, frame: F.text, op: OP.TEXT, name: 'text' };
}

function section(isBinary: boolean, n: { whole: string; frag: string; chop: string; many: string }): Case[] {
  const k = kinds(isBinary);
  return [
    ...SIZES.map((size, i): Case => ({
      id: `${n.whole}.${i + 1}`, title: `${k.name} ${size / KiB} KiB in one frame`, timeoutMs: LARGE_TIMEOUT,
      steps: () => [{ send: k.frame(k.data(size)) }], events: () => [k.msg(k.data(size))], close: 1000,
    })),
    ...FRAGS.map((frag, i): Case => ({
      id: `${n.frag}.${i + 1}`, title: `${k.name} 4 MiB in ${4 * MiB / frag} fragments of ${frag} B`, timeoutMs: LARGE_TIMEOUT,
      steps: () => [{ send: F.frag(k.op, k.data(4 * MiB), frag), chunk: 256 * KiB }], events: () => [k.msg(k.data(4 * MiB))], close: 1000,
    })),
    ...CHOPS.map((chop, i): Case => ({
      id: `${n.chop}.${i + 1}`, title: `${k.name} 1 MiB frame in writes of ${chop} B`, timeoutMs: LARGE_TIMEOUT,
      steps: () => [{ send: k.frame(k.data(MiB)), chunk: chop }], events: () => [k.msg(k.data(MiB))], close: 1000,
    })),
    ...COUNTS.map(([count, size], i): Case => ({
      id: `${n.many}.${i + 1}`, title: `${count} ${k.name} messages of ${size} B`, timeoutMs: LARGE_TIMEOUT,
      steps: () => [{ send: Array.from({ length: count }, () => k.frame(k.data(size))), chunk: 64 * KiB }],
      events: () => Array.from({ length: count }, () => k.msg(k.data(size))), close: 1000,
    })),
  ];
}

export const largeCases: Case[] = [
  ...section(false, { whole: '9.1', frag: '9.3', chop: '9.5', many: '9.7' }),
  ...section(true, { whole: '9.2', frag: '9.4', chop: '9.6', many: '9.8' }),
  { id: '9.9.1', title: 'text 16 MiB in 65,536 fragments of 256 B', timeoutMs: LARGE_TIMEOUT,
    steps: () => [{ send: F.frag(OP.TEXT, T(16 * MiB), 256), chunk: 256 * KiB }], events: () => [text(T(16 * MiB))], close: 1000 },
];
