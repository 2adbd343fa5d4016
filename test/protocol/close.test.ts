// Close code rules (RFC 6455 7.4) and close payload encoding/decoding.
import t from 'tap';
import { InvalidArgumentError, ProtocolError } from '../../lib/errors.js';
import {
  MAX_CLOSE_REASON_BYTES, closeCodePayload, decodeClosePayload, encodeClosePayload, isValidApiCloseCode, isValidWireCloseCode,
} from '../../lib/protocol/close.js';

t.test('wire-valid codes, exhaustively over 0..65535', async (t) => {
  const valid: number[] = [];
  for (let c = 0; c <= 65535; c++) if (isValidWireCloseCode(c)) valid.push(c);
  const expected: number[] = [];
  for (let c = 1000; c <= 1003; c++) expected.push(c);
  for (let c = 1007; c <= 1014; c++) expected.push(c);
  for (let c = 3000; c <= 4999; c++) expected.push(c);
  t.same(valid, expected);
});

t.test('API codes: the wire set, integers only', async (t) => {
  t.ok(isValidApiCloseCode(1000));
  t.ok(isValidApiCloseCode(4999));
  for (const c of [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.1, NaN, Infinity, -1000]) t.notOk(isValidApiCloseCode(c), String(c));
});

t.test('encodeClosePayload', async (t) => {
  t.equal(encodeClosePayload().length, 0);
  t.equal(encodeClosePayload(1000).toString('hex'), '03e8');
  t.equal(encodeClosePayload(3000, 'ok').toString('hex'), '0bb86f6b');
  t.equal(encodeClosePayload(1000, '€'.repeat(41)).length, 125, '123 bytes of reason');
  t.throws(() => encodeClosePayload(1000, '€'.repeat(41) + 'a'), InvalidArgumentError);
  t.throws(() => encodeClosePayload(undefined, 'x'), InvalidArgumentError);
  t.throws(() => encodeClosePayload(1005), InvalidArgumentError);
  t.equal(MAX_CLOSE_REASON_BYTES, 123);
  t.equal(closeCodePayload(1002).toString('hex'), '03ea');
});

t.test('decodeClosePayload', async (t) => {
  t.same(decodeClosePayload(Buffer.alloc(0)), { code: 1005, reason: '' });
  t.same(decodeClosePayload(Buffer.from('03e8', 'hex')), { code: 1000, reason: '' });
  t.same(decodeClosePayload(Buffer.from('0fa0e282ac', 'hex')), { code: 4000, reason: '€' });
  const bad: Array<[string, number]> = [['03', 1002], ['03ec', 1002], ['0000', 1002], ['1388', 1002], ['03e8ff', 1007], ['03e8e282', 1007], ['03e8eda080', 1007]];
  for (const [hex, code] of bad) {
    let err: unknown;
    try {
      decodeClosePayload(Buffer.from(hex, 'hex'));
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ProtocolError && err.closeCode === code, `${hex} -> ${code}`);
  }
});
