// ReconnectingWebSocket over real sockets on 127.0.0.1, its delays on a manual clock: the
// schedule is checked exactly, and a dial happens when (and only when) its delay has passed.
import { once } from 'node:events';
import t from 'tap';
import { WebSocketError } from '../../lib/errors.js';
import { ReconnectingWebSocket, type ReconnectingOptions } from '../../lib/reconnect/reconnecting-websocket.js';
import { WebSocketServer } from '../../lib/server/server.js';
import type { WebSocket } from '../../lib/websocket.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { scriptedServer } from '../helpers/raw-server.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/** A raw server answering every upgrade with `status` and an empty body. */
function refusing(t: Test, status: number) {
  return scriptedServer(t, (socket) => socket.end(`HTTP/1.1 ${status} No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`));
}

/** A real server; `connections` in order of arrival. */
async function server(t: Test) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', keepAliveInterval: 0 });
  const { port } = await wss.listen();
  t.teardown(() => wss.close(100));
  const connections: WebSocket[] = [];
  const received: string[] = [];
  wss.on('connection', (ws) => {
    connections.push(ws);
    ws.on('message', (d) => received.push(d.toString()));
  });
  return { wss, url: `ws://127.0.0.1:${port}/`, connections, received };
}

function client(t: Test, url: string, options: ReconnectingOptions): ReconnectingWebSocket {
  const rws = new ReconnectingWebSocket(url, { keepAliveInterval: 0, ...options });
  t.teardown(() => rws.close());
  return rws;
}

t.test('exponential backoff, full jitter in slots from the loss, and the cap: the exact schedule', async (t) => {
  const srv = await refusing(t, 503);
  const clock = new ManualClock();
  // Windows 1000, 2000, 4000, 8000 (cap), 8000, 8000: slots [0,1000) [1000,3000) [3000,7000) [7000,15000) [15000,23000) [23000,31000).
  const rws = client(t, srv.url, { clock, random: () => 0.5, firstDelay: 1000, baseDelay: 2000, maxDelay: 8000 });
  const start = clock.now();
  const dials: number[] = [];
  const seen: Array<{ attempt: number; delay: number }> = [];
  for (let i = 1; i <= 6; i++) {
    const [info] = await once(rws, 'reconnecting');
    seen.push({ attempt: info.attempt, delay: info.delay });
    t.equal(info.error?.status, 503, 'the failed attempt is passed on');
    t.equal(srv.requests.length, i, `${i} dials so far`);
    t.equal(clock.active, 1, 'one timer: the pending reconnect');
    clock.advance(info.delay - 1);
    t.equal(clock.active, 1, 'not yet due 1 ms before the delay');
    clock.advance(1);
    t.equal(clock.active, 0, 'due at the delay: dialing');
    dials.push(clock.now() - start);
  }
  t.same(dials, [500, 2000, 5000, 11_000, 19_000, 27_000], 'each dial at the midpoint of its slot after the loss');
  t.same(seen, [
    { attempt: 1, delay: 500 },
    { attempt: 2, delay: 1500 },
    { attempt: 3, delay: 3000 },
    { attempt: 4, delay: 6000 },
    { attempt: 5, delay: 8000 },
    { attempt: 6, delay: 8000 },
  ]);
});

t.test('jitter spans the whole window: draws at 0 and just below 1', async (t) => {
  const srv = await refusing(t, 503);
  const clock = new ManualClock();
  const draws = [0, 0.999_9, 0.25];
  const rws = client(t, srv.url, { clock, random: () => draws.shift()!, firstDelay: 1000, baseDelay: 2000, maxDelay: 30_000 });
  const delays: number[] = [];
  for (let i = 0; i < 3; i++) {
    const [info] = await once(rws, 'reconnecting');
    delays.push(info.delay);
    clock.advance(Math.max(1, info.delay));
  }
  // Slots [0,1000) [1000,3000) [3000,7000); dials at 0+0, 1000+1999, 3000+1000 after the loss (failures at 1 and 2999).
  t.same(delays, [0, 2998, 1001], 'windows 1000, 2000, 4000');
});

t.test('maxAttempts: that many reconnects, then one end', async (t) => {
  const srv = await refusing(t, 502);
  const clock = new ManualClock();
  const rws = client(t, srv.url, { clock, random: () => 0, maxAttempts: 3 });
  const attempts: number[] = [];
  rws.on('reconnecting', ({ attempt, delay }) => {
    attempts.push(attempt);
    clock.advance(Math.max(1, delay));
  });
  const [end] = await once(rws, 'end');
  t.same(attempts, [1, 2, 3]);
  t.equal(end.reason, 'max-attempts');
  t.equal((end.error as { status?: number }).status, 502);
  t.equal(srv.requests.length, 4, 'the first dial and three reconnects');
  t.equal(clock.active, 0, 'nothing scheduled after end');
});

t.test('the attempt count starts again after a connection stayed up for stableAfter', async (t) => {
  const srv = await server(t);
  const clock = new ManualClock();
  const rws = client(t, srv.url, { clock, random: () => 0.5, firstDelay: 1000, baseDelay: 2000, stableAfter: 5000 });
  const drop = async (): Promise<{ attempt: number; delay: number }> => {
    const reconnecting = once(rws, 'reconnecting');
    srv.connections.at(-1)!.terminate();
    const [info] = await reconnecting;
    return { attempt: info.attempt, delay: info.delay };
  };
  await once(rws, 'open');
  t.same(await drop(), { attempt: 1, delay: 500 });
  clock.advance(500);
  await once(rws, 'open');
  clock.advance(4999);
  t.same(await drop(), { attempt: 2, delay: 1000 }, 'up 4999 ms: still counting (its slot passed: the draw counts from now)');
  clock.advance(1000);
  await once(rws, 'open');
  clock.advance(5000);
  t.same(await drop(), { attempt: 1, delay: 500 }, 'up 5000 ms: counting from 1 again');
});

t.test('events: open per connection, close per connection, messages, and the outbox flushed in order', async (t) => {
  const srv = await server(t);
  const clock = new ManualClock();
  const rws = client(t, srv.url, { clock, random: () => 0 });
  const events: string[] = [];
  rws.on('open', ({ resumed }) => events.push(`open resumed=${resumed}`));
  rws.on('close', ({ code, wasClean }) => events.push(`close ${code} ${wasClean}`));
  rws.on('message', (d) => events.push(`message ${d}`));
  t.equal(rws.send('queued-1'), true);
  t.equal(rws.send(Buffer.from('queued-2')), true);
  t.same(rws.outboxSize, { messages: 2, bytes: 16, dropped: 0 });
  await once(rws, 'open');
  t.same(rws.outboxSize, { messages: 0, bytes: 0, dropped: 0 });
  srv.connections[0]!.send('hello');
  await once(rws, 'message');
  const reconnecting = once(rws, 'reconnecting');
  srv.connections[0]!.close(1001, 'bye');
  await reconnecting;
  rws.send('while-away');
  clock.advance(1);
  await once(rws, 'open');
  rws.send('live');
  while (srv.received.length < 4) await new Promise((r) => setTimeout(r, 5));
  t.same(srv.received, ['queued-1', 'queued-2', 'while-away', 'live']);
  t.same(events, ['open resumed=false', 'message hello', 'close 1001 true', 'open resumed=false']);
});

t.test('outbox policies, bounded in messages and in bytes', async (t) => {
  const run = async (options: ReconnectingOptions, sends: string[]): Promise<{ results: unknown[]; got: string[]; dropped: number }> => {
    const srv = await server(t);
    const rws = client(t, srv.url, { clock: new ManualClock(), ...options });
    const results = sends.map((s) => {
      try {
        return rws.send(s);
      } catch (e) {
        return (e as WebSocketError).code;
      }
    });
    const dropped = rws.outboxSize.dropped;
    await once(rws, 'open');
    const expected = results.filter((r) => r === true).length - dropped;
    while (srv.received.length < expected) await new Promise((r) => setTimeout(r, 5));
    return { results, got: srv.received, dropped };
  };
  t.same(await run({ outboxMaxMessages: 3, outboxPolicy: 'drop-oldest' }, ['a', 'b', 'c', 'd', 'e']), {
    results: [true, true, true, true, true], got: ['c', 'd', 'e'], dropped: 2,
  });
  t.same(await run({ outboxMaxMessages: 3, outboxPolicy: 'drop-newest' }, ['a', 'b', 'c', 'd', 'e']), {
    results: [true, true, true, false, false], got: ['a', 'b', 'c'], dropped: 2,
  });
  t.same(await run({ outboxMaxMessages: 3, outboxPolicy: 'error' }, ['a', 'b', 'c', 'd']), {
    results: [true, true, true, 'ERR_WS_OUTBOX_FULL'], got: ['a', 'b', 'c'], dropped: 0,
  });
  t.same(await run({ outboxMaxBytes: 10 }, ['12345', '67890', 'x']), {
    results: [true, true, true], got: ['67890', 'x'], dropped: 1,
  }, 'bytes: the oldest go until the new one fits');
  t.same(await run({ outboxMaxBytes: 4, outboxPolicy: 'drop-oldest' }, ['ab', 'toolarge', 'cd']), {
    results: [true, false, true], got: ['ab', 'cd'], dropped: 1,
  }, 'a message larger than the whole outbox is dropped, the rest kept');
});

t.test('a normal close by either side ends it', async (t) => {
  for (const who of ['server', 'client'] as const) {
    const srv = await server(t);
    const rws = client(t, srv.url, { clock: new ManualClock() });
    let reconnects = 0;
    rws.on('reconnecting', () => reconnects++);
    const [{ ws }] = await once(rws, 'open');
    if (who === 'server') srv.connections[0]!.close(1000, 'done');
    else ws.close(1000, 'done');
    const [end] = await once(rws, 'end');
    t.same(end, { reason: 'normal-close', code: 1000 }, who);
    t.equal(reconnects, 0);
  }
  const srv = await server(t);
  const rws = client(t, srv.url, { clock: new ManualClock() });
  await once(rws, 'open');
  const closed = once(srv.connections[0]!, 'close');
  rws.close(1000, 'bye');
  t.same((await once(rws, 'end'))[0], { reason: 'closed' }, 'close() ends it');
  t.equal((await closed)[0], 1000);
  t.equal(rws.send('late'), false, 'nothing is accepted after end');
});

t.test('a close code listed in finalCloseCodes ends it; others reconnect', async (t) => {
  const srv = await server(t);
  const clock = new ManualClock();
  const rws = client(t, srv.url, { clock, random: () => 0, finalCloseCodes: [4001] });
  await once(rws, 'open');
  const reconnecting = once(rws, 'reconnecting');
  srv.connections[0]!.close(4002, 'not final');
  t.equal((await reconnecting)[0].code, 4002);
  clock.advance(1);
  await once(rws, 'open');
  srv.connections[1]!.close(4001, 'expired');
  t.same((await once(rws, 'end'))[0], { reason: 'final-code', code: 4001 });
});

t.test('final handshake statuses: 401, 403, 404 by default, or the listed ones', async (t) => {
  for (const status of [401, 403, 404]) {
    const srv = await refusing(t, status);
    const rws = client(t, srv.url, { clock: new ManualClock() });
    const [end] = await once(rws, 'end');
    t.equal(end.reason, 'final-status');
    t.equal(end.status, status);
    t.equal(srv.requests.length, 1);
  }
  const srv = await refusing(t, 503);
  const rws = client(t, srv.url, { clock: new ManualClock(), finalStatuses: [503] });
  t.same((await once(rws, 'end'))[0].status, 503);
  const srv2 = await refusing(t, 401);
  const rws2 = client(t, srv2.url, { clock: new ManualClock(), finalStatuses: [] });
  t.equal((await once(rws2, 'reconnecting'))[0].attempt, 1, 'an empty list: 401 is retried');
});

t.test('1012 and 1013 wait longer, and a retry-after hint sets the window', async (t) => {
  const cases: Array<[number, string, number]> = [
    [1012, 'restarting', 2500],
    [1013, 'overloaded', 2500],
    [1012, 'retry-after=2', 1000],
    [1013, 'busy; retry-after=10', 5000],
    [1012, 'retry-after=600', 10_000],
  ];
  const srv = await server(t);
  const clock = new ManualClock();
  const rws = client(t, srv.url, { clock, random: () => 0.5, baseDelay: 1000, restartDelay: 5000, maxRetryAfter: 20_000, stableAfter: 1 });
  await once(rws, 'open');
  for (const [i, [code, reason, delay]] of cases.entries()) {
    clock.advance(1); // stable: every case is attempt 1
    const reconnecting = once(rws, 'reconnecting');
    srv.connections[i]!.close(code, reason);
    const [info] = await reconnecting;
    t.same({ attempt: info.attempt, delay: info.delay, code: info.code }, { attempt: 1, delay, code }, `${code} ${reason}`);
    const opened = once(rws, 'open');
    clock.advance(delay);
    await opened;
  }
});
