import t from 'tap';
import { acceptKey, generateKey, isValidKey, WEBSOCKET_GUID } from '../../lib/handshake/key.js';

t.test('RFC 6455 §1.3 example', async (t) => {
  t.equal(WEBSOCKET_GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
  t.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

t.test('generated keys are valid, 16 random bytes, and differ', async (t) => {
  const a = generateKey();
  const b = generateKey();
  t.ok(isValidKey(a));
  t.equal(Buffer.from(a, 'base64').length, 16);
  t.not(a, b);
});

t.test('key validation', async (t) => {
  t.ok(isValidKey('dGhlIHNhbXBsZSBub25jZQ=='));
  t.ok(isValidKey('AAAAAAAAAAAAAAAAAAAAAA=='));
  t.notOk(isValidKey('dGhlIHNhbXBsZSBub25jZQ='), 'short padding');
  t.notOk(isValidKey('dGhlIHNhbXBsZSBub25jZQ'), 'unpadded');
  t.notOk(isValidKey('dGhlIHNhbXBsZSBub25jZQ==='), 'too long');
  t.notOk(isValidKey('dGhlIHNhbXBsZSBub25jZXk='), '17 bytes');
  t.notOk(isValidKey('dGhlIHNhbXBsZSBub25j!Q=='), 'bad alphabet');
  t.notOk(isValidKey(''), 'empty');
});
