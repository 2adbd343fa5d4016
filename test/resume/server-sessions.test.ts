// The server's bounds and endings of resumable sessions: at most maxSessions wait for their
// clients (the longest-waiting is dropped and its client starts fresh), server.close() and
// drain() end every session with the server's close frame and leave no window timer behind,
// and two claims of one session id answered together: the later wins, the earlier is closed,
// nothing is delivered twice.
import { once } from 'node:events';
import t from 'tap';
import { ServerResume, type ResumableSession } from '../../lib/server/resume.js';
import type { UpgradeRequest } from '../../lib/handshake/request.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { closed, wsPair } from '../helpers/pair.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { offer, resumeServer } from './helpers.js';

t.test('maxSessions: past it the longest-waiting detached session ends (evicted) and its client gets resumed=0', async (t) => {
  const clock = new ManualClock();
  const srv = await resumeServer(t, { resume: { maxSessions: 2, clock } });
  const peers = [await offer(t, srv.port, 'new'), await offer(t, srv.port, 'new'), await offer(t, srv.port, 'new')];
  const causes: string[] = [];
  for (const s of srv.sessions) s.on('close', (cause) => causes.push(`${srv.sessions.indexOf(s)}:${cause}`));
  for (const [i, p] of peers.entries()) {
    const gone = once(srv.sessions[i]!, 'disconnect');
    p.peer.destroy();
    await gone;
  }
  t.same(causes, ['0:evicted'], 'the third detached session drops the first one');
  t.equal(clock.active, 2, 'two windows running: the evicted session left no timer');
  const first = await offer(t, srv.port, `id=${peers[0]!.id}; received=0`);
  t.equal(first.resumed, false, 'the evicted client starts fresh');
  const second = await offer(t, srv.port, `id=${peers[1]!.id}; received=0`);
  t.equal(second.resumed, true, 'a kept one resumes');
  t.throws(() => ServerResume.create({ maxSessions: 0 }, () => {}), InvalidArgumentError);
});

t.test('server.close({ code, retryAfter }) ends every session with its close frame and clears their windows', async (t) => {
  const clock = new ManualClock();
  const srv = await resumeServer(t, { resume: { clock } });
  const attached = await offer(t, srv.port, 'new');
  const away = await offer(t, srv.port, 'new');
  const gone = once(srv.sessions[1]!, 'disconnect');
  away.peer.destroy();
  await gone;
  t.equal(clock.active, 1, 'the detached session waits');
  const ends = srv.sessions.map((s) => once(s, 'close'));
  const closing = srv.wss.close({ code: 1012, retryAfter: 5, timeout: 1000 });
  t.equal(await attached.peer.untilClose(), 1012, 'the attached client gets the server\'s code');
  t.match(attached.peer.all().toString('latin1'), /retry-after=5/, '...and its retry-after hint');
  await attached.peer.send({ opcode: 0x8, payload: Buffer.from([0x03, 0xf4]) });
  await closing;
  t.same(await Promise.all(ends), [['shutdown'], ['shutdown']]);
  t.equal(clock.active, 0, 'no window timer left');
  t.equal(srv.sessions[0]!.send('late'), false, 'a closed session sends nothing');
});

t.test('server.drain(): a session whose transport is drained ends (shutdown) instead of waiting', async (t) => {
  const clock = new ManualClock();
  const srv = await resumeServer(t, { resume: { clock } });
  const a = await offer(t, srv.port, 'new');
  const ended = once(srv.sessions[0]!, 'close');
  let disconnects = 0;
  srv.sessions[0]!.on('disconnect', () => disconnects++);
  const draining = srv.wss.drain({ over: 0, retryAfter: 3 });
  t.equal(await a.peer.untilClose(), 1012);
  await a.peer.send({ opcode: 0x8, payload: Buffer.from([0x03, 0xf4]) });
  t.same(await ended, ['shutdown']);
  await draining;
  t.equal(disconnects, 0, 'no disconnect: the session is over, not waiting');
  t.equal(clock.active, 0, 'no window timer');
});

/** A request offering `id` (only the resume header matters to ServerResume). */
function request(value: string): UpgradeRequest {
  return { method: 'GET', url: '/', path: '/', headers: { 'rfcws-resume': value }, rawHeaders: [], httpVersion: '1.1' } as unknown as UpgradeRequest;
}

for (const order of ['earlier attaches first', 'later attaches first'] as const) {
  t.test(`two claims of one session answered together (${order}): the later wins, the earlier is closed, nothing twice`, async (t) => {
    const sessions: ResumableSession[] = [];
    const resume = ServerResume.create({ clock: new ManualClock() }, (s) => sessions.push(s))!;
    const authorize = resume.wrap(undefined);
    const grant = async (value: string): Promise<unknown> => ((await authorize(request(value))) as { data: unknown }).data;
    const p0 = await wsPair();
    t.teardown(() => p0.client.terminate());
    resume.take(p0.server, request('new'), await grant('new'));
    const session = sessions[0]!;
    const delivered: string[] = [];
    session.on('message', (d) => delivered.push(d.toString()));
    const lost = once(session, 'disconnect');
    p0.client.terminate();
    await lost;
    session.send('s0');
    // Both claims are answered (resumed=1) before either connection attaches.
    const earlier = await grant(`id=${session.id}; received=0`);
    const later = await grant(`id=${session.id}; received=0`);
    const [pa, pb] = [await wsPair(), await wsPair()];
    t.teardown(() => { pa.client.terminate(); pb.client.terminate(); });
    const got = { a: [] as string[], b: [] as string[] };
    pa.client.on('message', (d) => got.a.push(d.toString()));
    pb.client.on('message', (d) => got.b.push(d.toString()));
    const aClosed = closed(pa.client);
    if (order === 'earlier attaches first') {
      resume.take(pa.server, request(''), earlier);
      resume.take(pb.server, request(''), later);
    } else {
      resume.take(pb.server, request(''), later);
      resume.take(pa.server, request(''), earlier);
    }
    const a = await aClosed;
    t.equal(a.code, 1008, 'the earlier claim is closed');
    t.equal(a.reason, 'resume: the session was claimed again');
    t.equal(session.ws, pb.server, 'the later claim carries the session');
    session.send('s1');
    pb.client.send('c0');
    await new Promise<void>((resolve) => { const check = () => (got.b.length >= 2 && delivered.length >= 1 ? resolve() : setTimeout(check, 5)); check(); });
    pb.client.pong(Buffer.from(`rfcws-ack:${got.b.length}`));
    t.same(got.b, ['s0', 's1'], 'the winner gets the replay and the new message, once each');
    t.same(got.a, [], 'the loser gets nothing');
    t.same(delivered, ['c0'], 'the client message delivered once');
    session.close();
  });
}
