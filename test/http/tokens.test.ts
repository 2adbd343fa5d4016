import t from 'tap';
import { isFieldValue, isToken, listHasToken, parseTokenList, splitList, trimOws } from '../../lib/http/tokens.js';

t.test('tokens and field values', async (t) => {
  t.ok(isToken('chat.v2+json'));
  t.notOk(isToken(''));
  t.notOk(isToken('a b'));
  t.notOk(isToken('a,b'));
  t.notOk(isToken('a\r\nb'));
  t.ok(isFieldValue('text \t with tab \xff'));
  t.notOk(isFieldValue('a\r\nInjected: 1'));
  t.notOk(isFieldValue('a\nb'));
  t.notOk(isFieldValue('a\x00'));
  t.notOk(isFieldValue('\u0100'));
});

t.test('trimOws trims only SP and HTAB', async (t) => {
  t.equal(trimOws(' \t a b\t '), 'a b');
  t.equal(trimOws('\u00a0a\u00a0'), '\u00a0a\u00a0');
  t.equal(trimOws('   '), '');
});

t.test('lists', async (t) => {
  t.same(splitList(' a ,, b,\t,c '), ['a', 'b', 'c']);
  t.same(parseTokenList('chat, superchat'), ['chat', 'superchat']);
  t.equal(parseTokenList('chat, super chat'), null);
  t.same(parseTokenList(''), []);
  t.ok(listHasToken('keep-alive, UPGRADE', 'upgrade'));
  t.notOk(listHasToken('keep-alive, upgraded', 'upgrade'));
  t.notOk(listHasToken('', 'upgrade'));
  // One element (no comma) takes a shorter path: the same answers.
  t.ok(listHasToken(' \tWebSocket\t ', 'websocket'), 'single element, OWS and case');
  t.notOk(listHasToken('websockets', 'websocket'), 'single element, longer');
  t.notOk(listHasToken(' \t ', ''), 'an empty element is no element');
  t.notOk(listHasToken('', ''), 'an empty list has no empty token');
  t.equal(listHasToken(' , ', ''), false, 'nor a list of empty elements');
});

t.test('huge hostile values complete (linear time)', async (t) => {
  const spaces = ' '.repeat(200_000);
  t.same(parseTokenList(`${spaces}a${spaces},${spaces}b${spaces}`), ['a', 'b']);
  t.equal(parseTokenList(`a${spaces}b`), null);
  t.same(splitList(','.repeat(200_000)), []);
  t.notOk(listHasToken(`${'x,'.repeat(100_000)}y`, 'upgrade'));
});
