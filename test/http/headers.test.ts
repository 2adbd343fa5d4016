// HeaderList lookups: all / single / joined over repeated, absent and case-varied names.
import t from 'tap';
import { HeaderList } from '../../lib/http/headers.js';

const list = new HeaderList([['Host', 'a'], ['X-Twice', '1'], ['x-twice', '2'], ['Empty', '']]);

t.test('all: every value in order; an absent name gives an empty, unmodifiable list', async (t) => {
  t.same(list.all('x-twice'), ['1', '2']);
  t.same(list.all('host'), ['a']);
  const none = list.all('origin');
  t.same(none, []);
  t.throws(() => (none as string[]).push('x'), TypeError, 'the shared empty answer cannot be changed');
  t.same(list.all('origin'), []);
});

t.test('single: the value when exactly once, undefined when absent, null when repeated', async (t) => {
  t.equal(list.single('host'), 'a');
  t.equal(list.single('empty'), '');
  t.equal(list.single('origin'), undefined);
  t.equal(list.single('x-twice'), null);
});

t.test('joined: list semantics with ", "', async (t) => {
  t.equal(list.joined('x-twice'), '1, 2');
  t.equal(list.joined('host'), 'a');
  t.equal(list.joined('origin'), undefined);
  t.same(list.toRaw(), ['Host', 'a', 'X-Twice', '1', 'x-twice', '2', 'Empty', '']);
});
