/** Autobahn section 7: close frames, codes, payload sizes and data after the close. */
import { B, T } from './table-framing.js';
import { F, pong, text, type Case } from './runner.js';

const VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
const INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

export const closeCases: Case[] = [
  { id: '7.1.1', title: 'text, then close 1000', steps: [{ send: [F.text('Hello World!'), F.close(1000)] }], events: [text('Hello World!')], close: 1000 },
  { id: '7.1.2', title: 'close twice', steps: [{ send: [F.close(1000), F.close(1000)] }], close: 1000 },
  { id: '7.1.3', title: 'close, then ping: no pong', steps: [{ send: [F.close(1000), F.ping('Hello World!')] }], close: 1000 },
  { id: '7.1.4', title: 'close, then text: no echo', steps: [{ send: [F.close(1000), F.text('Hello World!')] }], close: 1000 },
  { id: '7.1.5', title: 'fragment, close, last fragment: no echo', steps: [{ send: [F.text('fragment1', { fin: false }), F.close(1000), F.cont('fragment2')] }], close: 1000 },
  { id: '7.1.6', title: '256 KiB text, close, ping', steps: [{ send: [F.text(T(262144)), F.close(1000), F.ping('Hello World!')] }], events: [text(T(262144))], close: 1000 },
  { id: '7.1.7', title: 'ping, close: pong then close', steps: [{ send: [F.ping('x'), F.close(1000)] }], events: [pong('x')], close: 1000 },
  { id: '7.1.8', title: 'close answered at once, peer keeps reading (one byte per write)', steps: [{ send: F.close(1000), chunk: 1 }, { awaitClose: true }], close: 1000 },
  { id: '7.1.9', title: 'close, then garbage that is not a frame', steps: [{ send: F.close(1000) }, { raw: Buffer.from('ffffffffffffffff', 'hex') }], close: 1000 },
  { id: '7.3.1', title: 'close with empty payload: empty close back', steps: [{ send: F.close() }], close: 1005 },
  { id: '7.3.2', title: 'close with 1-byte payload', steps: [{ send: F.op(8, Buffer.from([0x03])) }], close: 1002 },
  { id: '7.3.3', title: 'close 1000 without reason', steps: [{ send: F.close(1000) }], close: 1000 },
  { id: '7.3.4', title: 'close 1000 with a reason', steps: [{ send: F.close(1000, 'Hello World!') }], close: 1000 },
  { id: '7.3.5', title: 'close 1000 with a 123-byte reason (payload 125)', steps: [{ send: F.close(1000, '*'.repeat(123)) }], close: 1000 },
  { id: '7.3.6', title: 'close with payload 126', steps: [{ send: F.close(1000, '*'.repeat(124)) }], close: 1002 },
  { id: '7.3.7', title: 'close 1000 with a 123-byte multi-byte UTF-8 reason', steps: [{ send: F.close(1000, 'é'.repeat(61) + 'x') }], close: 1000 },
  { id: '7.5.1', title: 'close reason with invalid UTF-8', steps: [{ send: F.close(1000, Buffer.from('ceba e1bdb9 cf83 cebc ceb5 eda080 65646974656421'.replace(/ /g, ''), 'hex')) }], close: 1007 },
  { id: '7.5.2', title: 'close reason ending mid code point', steps: [{ send: F.close(1000, Buffer.from('48656c6c6fce', 'hex')) }], close: 1007 },
  ...VALID.map((code, i): Case => ({ id: `7.7.${i + 1}`, title: `close ${code} (valid): echoed`, steps: [{ send: F.close(code) }], close: code })),
  ...INVALID.map((code, i): Case => ({ id: `7.9.${i + 1}`, title: `close ${code} (invalid)`, steps: [{ send: F.close(code) }], close: 1002 })),
  { id: '7.13.1', title: 'binary, then close 1000 with reason', steps: [{ send: [F.binary(B(10)), F.close(1000, 'bye')] }], events: [{ kind: 'message', binary: true, data: B(10) }], close: 1000 },
];
