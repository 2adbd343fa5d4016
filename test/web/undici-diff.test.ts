// The same scenarios against undici's WebSocket (what Node ships as its global) and ours:
// the event sequences, readyState along the way and the exceptions must be the same.
import * as net from 'node:net';
import t from 'tap';
import { WebSocket as UndiciWebSocket } from 'undici';
import { WebSocket } from '../../lib/web/index.js';
import { echoServer, record, thrown } from './helpers.js';

type Ctor = new (url: string, protocols?: string | string[]) => EventTarget & {
  readyState: number; binaryType: string; send(d: unknown): void; close(c?: number, r?: string): void;
};
const IMPLS: Array<[string, Ctor]> = [['undici', UndiciWebSocket as unknown as Ctor], ['rfcws/web', WebSocket as unknown as Ctor]];

/** Open, a text and a binary echo, then a close with a code and reason: events and readyStates seen. */
async function echoScenario(Impl: Ctor, url: string): Promise<string[]> {
  const ws = new Impl(url);
  ws.binaryType = 'arraybuffer';
  const { events, closed } = record(ws);
  const states = [`state ${ws.readyState}`];
  let n = 0;
  ws.addEventListener('open', () => {
    states.push(`state ${ws.readyState}`);
    ws.send('text');
    ws.send(new Uint8Array([1, 2, 3]));
  });
  ws.addEventListener('message', () => {
    if (++n === 2) {
      ws.close(3001, 'over');
      states.push(`state ${ws.readyState}`);
    }
  });
  await closed;
  states.push(`state ${ws.readyState}`);
  return [...events, ...states];
}

async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

t.test('an echo and a close: the same events and states', async (t) => {
  const { url } = await echoServer(t);
  const [a, b] = [await echoScenario(IMPLS[0]![1], url), await echoScenario(IMPLS[1]![1], url)];
  t.same(b, a);
  t.same(b, ['open', 'message text', 'message <binary 3>', 'close 3001  true', 'state 0', 'state 1', 'state 2', 'state 3']);
});

t.test('a refused connection: the same events', async (t) => {
  const url = `ws://127.0.0.1:${await closedPort()}/`;
  const seqs: string[][] = [];
  for (const [, Impl] of IMPLS) {
    const r = record(new Impl(url));
    await r.closed;
    seqs.push(r.events);
  }
  t.same(seqs[1], seqs[0]);
  t.same(seqs[1], ['error', 'close 1006  false']);
});

t.test('the same exceptions', async (t) => {
  const { url } = await echoServer(t);
  const checks: Array<[string, (Impl: Ctor) => unknown]> = [
    ['bad scheme', (I) => new I('ftp://127.0.0.1/')],
    ['fragment', (I) => new I(`${url}#x`)],
    ['duplicate protocol', (I) => new I(url, ['a', 'a'])],
    ['bad protocol', (I) => new I(url, 'a b')],
    ['send while connecting', (I) => { const ws = new I(url); try { ws.send('x'); } finally { ws.close(); } }],
    ['close code 1001', (I) => { const ws = new I(url); try { ws.close(1001); } finally { ws.close(); } }],
    ['close reason too long', (I) => { const ws = new I(url); try { ws.close(1000, 'x'.repeat(124)); } finally { ws.close(); } }],
  ];
  for (const [name, fn] of checks) {
    const [a, b] = IMPLS.map(([, I]) => thrown(() => fn(I)));
    t.equal(b, a, `${name}: ${a}`);
  }
});
