/**
 * Autobahn sections 1 (echo), 2 (pings/pongs), 3 (reserved bits), 4 (reserved
 * opcodes) and 5 (fragmentation), plus the RFC 6455 masking rule, one line per case.
 */
import { binary, F, pong, text, type Case } from './runner.js';

/** Text of n bytes; binary of n bytes with every byte value (catches mask-phase bugs). */
export const T = (n: number): Buffer => Buffer.alloc(n, '*');
export const B = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
};

const SIZES = [0, 125, 126, 127, 128, 65535, 65536];

export const echoCases: Case[] = [
  ...SIZES.map((n, i): Case => ({ id: `1.1.${i + 1}`, title: `text ${n} B`, steps: [{ send: F.text(T(n)) }], events: [text(T(n))], close: 1000 })),
  { id: '1.1.8', title: 'text 65536 B in 997-byte writes', steps: [{ send: F.text(T(65536)), chunk: 997 }], events: [text(T(65536))], close: 1000 },
  ...SIZES.map((n, i): Case => ({ id: `1.2.${i + 1}`, title: `binary ${n} B`, steps: [{ send: F.binary(B(n)) }], events: [binary(B(n))], close: 1000 })),
  { id: '1.2.8', title: 'binary 65536 B in 997-byte writes', steps: [{ send: F.binary(B(65536)), chunk: 997 }], events: [binary(B(65536))], close: 1000 },
  { id: '1.3.1', title: 'text 300 B, one byte per write', steps: [{ send: F.text(T(300)), chunk: 1 }], events: [text(T(300))], close: 1000 },
  { id: '1.3.2', title: 'three messages in one write', steps: [{ send: [F.text('a'), F.binary(B(3)), F.text('ccc')] }], events: [text('a'), binary(B(3)), text('ccc')], close: 1000 },
  { id: '1.3.3', title: 'client frame without mask', roles: ['server'], steps: [{ send: F.text('Hello', { mask: false }) }], close: 1002 },
  { id: '1.3.4', title: 'server frame with mask', roles: ['client'], steps: [{ send: F.text('Hello', { mask: true }) }], close: 1002 },
  { id: '1.3.5', title: 'exact RFC 5.7 masked "Hello"', roles: ['server'], steps: [{ raw: Buffer.from('818537fa213d7f9f4d5158', 'hex') }], events: [text('Hello')], close: 1000 },
  { id: '1.3.7', title: 'messages in the same TCP write as the 101 head', roles: ['client'], withHandshake: [F.text('first'), F.binary(B(4)), F.ping('early')], steps: [], events: [text('first'), binary(B(4)), pong('early')], close: 1000 },
  { id: '1.3.6', title: 'exact RFC 5.7 unmasked "Hello"', roles: ['client'], steps: [{ raw: Buffer.from('810548656c6c6f', 'hex') }], events: [text('Hello')], close: 1000 },
];

const P125 = B(125);
export const pingCases: Case[] = [
  { id: '2.1', title: 'ping without payload', steps: [{ send: F.ping() }], events: [pong()], close: 1000 },
  { id: '2.2', title: 'ping with text payload', steps: [{ send: F.ping('Hello, world!') }], events: [pong('Hello, world!')], close: 1000 },
  { id: '2.3', title: 'ping with binary payload', steps: [{ send: F.ping(Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])) }], events: [pong(Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]))], close: 1000 },
  { id: '2.4', title: 'ping with 125 B payload', steps: [{ send: F.ping(P125) }], events: [pong(P125)], close: 1000 },
  { id: '2.5', title: 'ping with 126 B payload', steps: [{ send: F.ping(B(126)) }], close: 1002 },
  { id: '2.6', title: 'ping with 125 B payload, one byte per write', steps: [{ send: F.ping(P125), chunk: 1 }], events: [pong(P125)], close: 1000 },
  { id: '2.7', title: 'unsolicited pong without payload', steps: [{ send: F.pong() }, { sleep: 50 }], close: 1000 },
  { id: '2.8', title: 'unsolicited pong with payload', steps: [{ send: F.pong('unsolicited') }, { sleep: 50 }], close: 1000 },
  { id: '2.9', title: 'unsolicited pong, then ping', steps: [{ send: [F.pong('unsolicited'), F.ping('solicited')] }], events: [pong('solicited')], close: 1000 },
  { id: '2.10', title: '10 pings in one write', steps: [{ send: Array.from({ length: 10 }, (_, i) => F.ping(`p${i}`)) }], events: Array.from({ length: 10 }, (_, i) => pong(`p${i}`)), close: 1000 },
  { id: '2.11', title: '10 pings, one frame per write', steps: Array.from({ length: 10 }, (_, i) => ({ send: F.ping(`p${i}`) })), events: Array.from({ length: 10 }, (_, i) => pong(`p${i}`)), close: 1000 },
  { id: '2.12', title: 'pong with 126 B payload', steps: [{ send: F.pong(B(126)) }], close: 1002 },
  { id: '2.13', title: 'ping with 126 B payload, one byte per write', steps: [{ send: F.ping(B(126)), chunk: 1 }], close: 1002 },
];

export const rsvCases: Case[] = [
  { id: '3.1', title: 'text with RSV3 (rsv=1)', steps: [{ send: F.text('Hello', { rsv: 1 }) }], close: 1002 },
  { id: '3.2', title: 'text, then text with rsv=2, then ping', steps: [{ send: [F.text('Hello'), F.text('Hello', { rsv: 2 }), F.ping('p')] }], events: [text('Hello')], close: 1002 },
  { id: '3.3', title: 'text, rsv=3 text, ping, frame by frame', steps: [{ send: F.text('Hello') }, { awaitEvents: 1 }, { send: F.text('Hello', { rsv: 3 }) }, { send: F.ping('p') }], events: [text('Hello')], close: 1002 },
  { id: '3.4', title: 'text, rsv=4 text (no extension), ping, one byte per write', steps: [{ send: [F.text('Hello'), F.text('Hello', { rsv: 4 }), F.ping('p')], chunk: 1 }], events: [text('Hello')], close: 1002 },
  { id: '3.5', title: 'binary with rsv=5', steps: [{ send: F.binary(B(8), { rsv: 5 }) }], close: 1002 },
  { id: '3.6', title: 'ping with rsv=6', steps: [{ send: F.ping('Hello', { rsv: 6 }) }], close: 1002 },
  { id: '3.7', title: 'close with rsv=7', steps: [{ send: F.close(1000, '', { rsv: 7 }) }], close: 1002 },
  { id: '3.8', title: 'continuation with rsv=4 (no extension)', steps: [{ send: [F.text('Hel', { fin: false }), F.cont('lo', { rsv: 4 })] }], close: 1002 },
];

const reservedData = [3, 4, 5, 6, 7];
const reservedControl = [11, 12, 13, 14, 15];
function opcodeCases(section: string, ops: number[]): Case[] {
  return [
    { id: `${section}.1`, title: `opcode ${ops[0]}`, steps: [{ send: F.op(ops[0]) }], close: 1002 },
    { id: `${section}.2`, title: `opcode ${ops[1]} with payload`, steps: [{ send: F.op(ops[1], 'reserved opcode') }], close: 1002 },
    { id: `${section}.3`, title: `text, opcode ${ops[2]}, ping`, steps: [{ send: [F.text('Hello'), F.op(ops[2]), F.ping('p')] }], events: [text('Hello')], close: 1002 },
    { id: `${section}.4`, title: `text, opcode ${ops[3]} with payload, ping`, steps: [{ send: [F.text('Hello'), F.op(ops[3], 'reserved opcode'), F.ping('p')] }], events: [text('Hello')], close: 1002 },
    { id: `${section}.5`, title: `text, opcode ${ops[4]} with payload, ping, one byte per write`, steps: [{ send: [F.text('Hello'), F.op(ops[4], 'reserved opcode'), F.ping('p')], chunk: 1 }], events: [text('Hello')], close: 1002 },
  ];
}
export const opcodeTable: Case[] = [...opcodeCases('4.1', reservedData), ...opcodeCases('4.2', reservedControl)];

const frag2 = [F.text('fragment1', { fin: false }), F.cont('fragment2')];
const withPing = [F.text('fragment1', { fin: false }), F.ping('ping'), F.cont('fragment2')];
const contAlone = [F.cont('non-continuation payload'), F.text('Hello, world!')];
const contAloneOpen = [F.cont('fragment1', { fin: false }), F.cont('fragment2'), F.text('Hello, world!')];
export const fragmentationCases: Case[] = [
  { id: '5.1', title: 'ping fragmented into 2', steps: [{ send: [F.ping('fragment1', { fin: false }), F.cont('fragment2')] }], close: 1002 },
  { id: '5.2', title: 'pong fragmented into 2', steps: [{ send: [F.pong('fragment1', { fin: false }), F.cont('fragment2')] }], close: 1002 },
  { id: '5.3', title: 'text fragmented into 2', steps: [{ send: frag2 }], events: [text('fragment1fragment2')], close: 1000 },
  { id: '5.4', title: 'text fragmented into 2, one frame per write', steps: frag2.map((f) => ({ send: f })), events: [text('fragment1fragment2')], close: 1000 },
  { id: '5.5', title: 'text fragmented into 2, one byte per write', steps: [{ send: frag2, chunk: 1 }], events: [text('fragment1fragment2')], close: 1000 },
  { id: '5.6', title: 'text fragmented, ping in between', steps: [{ send: withPing }], events: [pong('ping'), text('fragment1fragment2')], close: 1000 },
  { id: '5.7', title: 'text fragmented, ping in between, frame per write', steps: withPing.map((f) => ({ send: f })), events: [pong('ping'), text('fragment1fragment2')], close: 1000 },
  { id: '5.8', title: 'text fragmented, ping in between, one byte per write', steps: [{ send: withPing, chunk: 1 }], events: [pong('ping'), text('fragment1fragment2')], close: 1000 },
  { id: '5.9', title: 'unstarted continuation fin=1, then text', steps: [{ send: contAlone }], close: 1002 },
  { id: '5.10', title: 'unstarted continuation fin=1, frame per write', steps: contAlone.map((f) => ({ send: f })), close: 1002 },
  { id: '5.11', title: 'unstarted continuation fin=1, one byte per write', steps: [{ send: contAlone, chunk: 1 }], close: 1002 },
  { id: '5.12', title: 'unstarted continuation fin=0', steps: [{ send: contAloneOpen }], close: 1002 },
  { id: '5.13', title: 'unstarted continuation fin=0, frame per write', steps: contAloneOpen.map((f) => ({ send: f })), close: 1002 },
  { id: '5.14', title: 'unstarted continuation fin=0, one byte per write', steps: [{ send: contAloneOpen, chunk: 1 }], close: 1002 },
  { id: '5.15', title: 'text fragmented into 2, then stray continuations', steps: [{ send: [...frag2, F.cont('fragment3', { fin: false }), F.cont('fragment4')] }], events: [text('fragment1fragment2')], close: 1002 },
  { id: '5.16', title: 'stray continuations before and after fragments', steps: [{ send: [F.cont('fragment1', { fin: false }), F.cont('fragment2'), ...frag2, F.cont('fragment1', { fin: false }), F.cont('fragment2')] }], close: 1002 },
  { id: '5.17', title: 'stray final continuations before and after fragments', steps: [{ send: [F.cont('fragment1'), F.cont('fragment2'), ...frag2] }], close: 1002 },
  { id: '5.18', title: 'text fin=0 followed by text fin=1', steps: [{ send: [F.text('fragment1', { fin: false }), F.text('fragment2')] }], close: 1002 },
  { id: '5.19', title: 'text in 5 fragments with pings between, paused', steps: [
    { send: [F.text('fragment1', { fin: false }), F.cont('fragment2', { fin: false }), F.ping('pongme 1!')] }, { sleep: 100 },
    { send: [F.cont('fragment3', { fin: false }), F.cont('fragment4', { fin: false }), F.ping('pongme 2!')] }, { sleep: 100 },
    { send: F.cont('fragment5') },
  ], events: [pong('pongme 1!'), pong('pongme 2!'), text('fragment1fragment2fragment3fragment4fragment5')], close: 1000 },
  { id: '5.20', title: 'as 5.19, one byte per write', steps: [
    { send: [F.text('fragment1', { fin: false }), F.cont('fragment2', { fin: false }), F.ping('pongme 1!')], chunk: 1 }, { sleep: 100 },
    { send: [F.cont('fragment3', { fin: false }), F.cont('fragment4', { fin: false }), F.ping('pongme 2!')], chunk: 1 }, { sleep: 100 },
    { send: F.cont('fragment5'), chunk: 1 },
  ], events: [pong('pongme 1!'), pong('pongme 2!'), text('fragment1fragment2fragment3fragment4fragment5')], close: 1000 },
  { id: '5.21', title: 'binary fragmented with empty fragments', steps: [{ send: [F.binary('', { fin: false }), F.cont(B(5), { fin: false }), F.cont('', { fin: false }), F.cont(B(3))] }], events: [binary(Buffer.concat([B(5), B(3)]))], close: 1000 },
  { id: '5.22', title: 'binary fragment then text fin=1', steps: [{ send: [F.binary('a', { fin: false }), F.text('b')] }], close: 1002 },
  { id: '5.23', title: 'close in the middle of a fragmented message', steps: [{ send: [F.text('fragment1', { fin: false }), F.close(1000)] }], close: 1000 },
  { id: '5.24', title: 'text fin=0 with opcode binary continuation', steps: [{ send: [F.text('a', { fin: false }), F.binary('b')] }], close: 1002 },
  { id: '5.25', title: 'fragmented close', steps: [{ send: [F.close(1000, '', { fin: false })] }], close: 1002 },
];
