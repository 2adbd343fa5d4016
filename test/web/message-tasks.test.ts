// Message tasks of the WHATWG WebSocket: one task per message (with the microtask checkpoint
// after each), and the replies sent from a run of message tasks leave together.
import * as net from 'node:net';
import t from 'tap';
import { WebSocket } from '../../lib/web/index.js';
import { echoServer, until } from './helpers.js';
import { countWrites } from '../helpers/count-writes.js';

/** Writes of bytes (not the empty writes a flush watcher makes) on sockets connected to `port` (the client's side). */
function countClientWrites(t: { teardown(fn: () => void): void }, port: number): { count(): number } {
  return countWrites(t, net.Socket.prototype, (sock, a) => sock.remotePort === port && (a[0] as { length?: number }).length !== 0);
}

/**
 * A server that records what it receives and, on the client's first message, sends `burst` in one
 * tick (they reach the client in one read); resolves once a WHATWG WebSocket to it is open.
 */
async function burstServer(t: Parameters<typeof echoServer>[0], burst: string[]) {
  const { server, url, port } = await echoServer(t);
  const received: string[] = [];
  const state = { closeCode: 0 };
  server.on('connection', (conn) => {
    conn.removeAllListeners('message');
    conn.on('message', (d) => received.push(d.toString()));
    conn.on('close', (code) => { state.closeCode = code; });
    conn.once('message', () => { for (const m of burst) conn.send(m); });
  });
  const ws = new WebSocket(url);
  await new Promise((r) => { ws.onopen = r; });
  return { ws, port, received, state };
}

t.test('the replies to a run of messages leave in one write, in order', async (t) => {
  const { ws, port, received } = await burstServer(t, Array.from({ length: 20 }, (_, i) => `m${i}`));
  const writes = countClientWrites(t, port);
  ws.onmessage = (e) => ws.send(`r-${e.data as string}`);
  ws.send('go');
  await until(() => received.length === 21);
  t.same(received.slice(1), Array.from({ length: 20 }, (_, i) => `r-m${i}`), 'every reply, in order');
  // One for 'go', one for the replies (two if the burst reached the client in two reads).
  t.ok(writes.count() <= 3, `'go' and 20 replies in ${writes.count()} write(s) of the client's socket`);
  ws.close();
});

t.test('each message is its own task: the microtasks of one listener run before the next message', async (t) => {
  const { ws } = await burstServer(t, ['a', 'b', 'c']);
  const log: string[] = [];
  ws.onmessage = (e) => {
    log.push(e.data as string);
    queueMicrotask(() => log.push(`micro ${e.data as string}`));
    void Promise.resolve().then(() => log.push(`then ${e.data as string}`));
  };
  ws.send('go');
  await until(() => log.length === 9);
  t.same(log, ['a', 'micro a', 'then a', 'b', 'micro b', 'then b', 'c', 'micro c', 'then c']);
  ws.close();
});

t.test('close() inside a run: the replies sent before it leave first, then the close frame', async (t) => {
  const { ws, received, state } = await burstServer(t, ['a', 'b', 'c']);
  const seen: string[] = [];
  ws.onmessage = (e) => {
    seen.push(e.data as string);
    ws.send(`r-${e.data as string}`);
    if (e.data === 'b') {
      t.ok(ws.bufferedAmount >= 3, `the held replies count in bufferedAmount (${ws.bufferedAmount})`);
      ws.close(1000, 'done');
    }
  };
  ws.send('go');
  await new Promise((r) => { ws.onclose = r; });
  t.same(seen, ['a', 'b'], 'no message event once closing');
  t.same(received, ['go', 'r-a', 'r-b'], 'the replies before close() arrived, before the close frame');
  await until(() => state.closeCode !== 0);
  t.equal(state.closeCode, 1000);
});
