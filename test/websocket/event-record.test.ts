// The WebSocket's listener record starts with the usual event names preset (a fast-mode object
// instead of a dictionary): listeners, eventNames() and 'open' must behave exactly as on a plain
// EventEmitter, and connections opened in one turn all get 'open' in order.
import t from 'tap';
import { once } from 'node:events';
import { pipePair } from '../helpers/pipe-pair.js';

t.test('eventNames() lists only events that have listeners', async (t) => {
  const { server, client } = pipePair();
  t.same(server.eventNames(), [], 'none yet: the preset names are not listed');
  const onMessage = (): void => {};
  server.on('message', onMessage);
  server.on('ping', () => {});
  t.same(server.eventNames(), ['message', 'ping']);
  t.equal(server.listenerCount('message'), 1);
  server.off('message', onMessage);
  t.same(server.eventNames(), ['ping']);
  t.equal(server.listenerCount('close'), 0);
  server.removeAllListeners();
  t.same(server.eventNames(), []);
  const got = once(server, 'message');
  client.send('hi');
  const [data, isBinary] = await got;
  t.equal(data.toString(), 'hi', 'delivery still works after the record was reset');
  t.equal(isBinary, false);
  client.terminate();
});

t.test("connections constructed in one turn each get 'open', in order", async (t) => {
  const pairs = Array.from({ length: 5 }, () => pipePair());
  const order: number[] = [];
  pairs.forEach((p, i) => p.server.on('open', () => order.push(i)));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.same(order, [0, 1, 2, 3, 4]);
  for (const p of pairs) p.client.terminate();
});
