// Resumable sessions across network drops: a TCP relay between client and server is cut
// (both sockets destroyed, bytes in flight lost) in the middle of a burst of 10,000 numbered
// messages each way, several times; each side must see every message of the other exactly
// once and in order. Over HTTP/1.1, and over HTTP/2 (RFC 8441, h2c) where the cuts alternate
// between the whole connection (the HTTP/2 session) and the one stream (RST_STREAM from the
// server while the session stays up).
import { once } from 'node:events';
import t from 'tap';
import { ReconnectingWebSocket } from '../../lib/reconnect/reconnecting-websocket.js';
import { WebSocketServer } from '../../lib/server/server.js';
import type { ResumableSession } from '../../lib/server/resume.js';
import { tcpRelay } from '../helpers/tcp-relay.js';

const N = 10_000;

/** Send `prefix0..prefix{N-1}` in slices of 200 per event-loop turn, so the cuts land mid-burst. */
function burst(send: (s: string) => void, prefix: string): void {
  let i = 0;
  const step = (): void => {
    for (const end = Math.min(N, i + 200); i < end; i++) send(`${prefix}${i}`);
    if (i < N) setImmediate(step);
  };
  step();
}

const expected = (prefix: string): string[] => Array.from({ length: N }, (_, i) => `${prefix}${i}`);

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

async function burstAcrossCuts(t: Test, http2: boolean): Promise<void> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', resume: true, keepAliveInterval: 0, ...(http2 ? { http2: true } : {}) });
  const { port } = await server.listen();
  t.teardown(() => server.close(100));
  const relay = await tcpRelay(t, port);

  const atServer: string[] = [];
  const atClient: string[] = [];
  const sessions: ResumableSession[] = [];
  let resumes = 0;
  // A threshold can be reached by messages already read before the previous cut: that cut finds nothing to destroy.
  let effectiveCuts = 0;
  const serverCuts = new Set([2000, 5000, 8000]);
  const clientCuts = new Set([3500, 6500]);
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let finAcked!: () => void;
  const finAck = new Promise<void>((resolve) => (finAcked = resolve));
  const check = (): void => {
    if (atServer.length === N && atClient.length === N) done();
  };

  server.on('session', (session) => {
    sessions.push(session);
    session.on('resume', () => resumes++);
    session.on('message', (data) => {
      if (data.toString() === 'fin') return void session.send('fin-ack');
      atServer.push(data.toString());
      // Over HTTP/2 the middle cut resets only the stream: the session (and its TCP connection) stays.
      if (serverCuts.delete(atServer.length)) {
        if (http2 && atServer.length === 5000 && session.ws !== null) {
          session.ws.terminate();
          effectiveCuts++;
        } else effectiveCuts += relay.cut();
      }
      check();
    });
    burst((s) => session.send(s), 's');
  });

  const client = new ReconnectingWebSocket(relay.url, { resume: true, baseDelay: 5, maxDelay: 20, keepAliveInterval: 0, ...(http2 ? { http: '2' as const } : {}) });
  if (http2) client.on('open', ({ ws }) => t.equal(ws.httpVersion, '2', 'an RFC 8441 stream'));
  const opens: boolean[] = [];
  client.on('open', ({ resumed }) => {
    opens.push(resumed);
    if (opens.length === 1) burst((s) => client.send(s), 'c');
  });
  client.on('message', (data) => {
    if (data.toString() === 'fin-ack') return finAcked();
    atClient.push(data.toString());
    if (clientCuts.delete(atClient.length)) effectiveCuts += relay.cut();
    check();
  });
  await finished;
  // A round trip after the last cut's reconnect: both ends are on the same live transport again.
  client.send('fin');
  await finAck;

  t.equal(sessions.length, 1, 'one session on the server for the whole run');
  t.equal(serverCuts.size + clientCuts.size, 0, 'all five thresholds were reached');
  t.ok(effectiveCuts >= 3, `at least three cuts destroyed a live connection (${effectiveCuts})`);
  // A cut can also hit a reconnect in its handshake, or the last cut the final transport: at most one open per cut.
  t.ok(opens.length >= 4 && opens.length <= 1 + effectiveCuts, `${opens.length} opens after ${effectiveCuts} cuts`);
  t.same(opens, [false, ...opens.slice(1).map(() => true)], 'every reconnect resumed');
  t.equal(resumes, opens.length - 1, 'the session saw each resume');
  t.same(atServer, expected('c'), 'the server got c0..c9999 once each, in order');
  t.same(atClient, expected('s'), 'the client got s0..s9999 once each, in order');
  // The client acknowledges what it got (batched, at the latest 50 ms later): the server's replay buffer empties.
  while (sessions[0]!.state.bytes !== 0) await new Promise((r) => setTimeout(r, 10));
  t.equal(sessions[0]!.state.acked, N + 1, 'the server holds nothing unacknowledged (the burst and fin-ack)');
  const sessionClosed = once(sessions[0]!, 'close');
  const ended = once(client, 'end');
  client.close();
  t.same((await ended)[0], { reason: 'closed' });
  t.same(await sessionClosed, ['closed'], 'a normal close ends the session');
}

t.test('10,000 messages each way through three cuts arrive exactly once, in order', (t) => burstAcrossCuts(t, false));

t.test('over HTTP/2: session and stream cuts, every message once and in order', (t) => burstAcrossCuts(t, true));
