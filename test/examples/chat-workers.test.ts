// examples/chat on two workers (`--workers 2`): two members of a room on different workers get
// every line exactly once, their own included (test/helpers/exactly-once.ts: markers, no sleeping).
import t from 'tap';
import { exchange } from '../helpers/exactly-once.js';
import { member, type Member } from './chat-member.js';
import { startExample } from './start.js';

t.test('--workers 2: members on different workers get every line exactly once', async (t) => {
  const { match, output } = await startExample(t, 'chat', /Chat on (http:\/\/\S+?)\/ .* on 2 workers/, {}, ['--workers', '2']);
  const origin = match[1]!;
  const url = `${origin.replace('http', 'ws')}/ws?room=scale`;
  const pids = [...output().matchAll(/worker \d \(pid (\d+)\) serves the chat/g)].map((m) => m[1]);
  const byPid = new Map<string, Member>();
  // Members that land on a worker already seen stay connected, idle: nobody leaves the room mid-test.
  for (let i = 0; i < 10 && byPid.size < 2; i++) {
    const m = await member(t, url, origin);
    t.ok(m.pid !== undefined && pids.includes(m.pid), `"${m.joined}" names a worker`);
    if (!byPid.has(m.pid!)) byPid.set(m.pid!, m);
  }
  t.equal(byPid.size, 2, 'one member on each worker');
  const [a, b] = [...byPid.values()];
  // The worker's subscription went to the relay before its "joined" publish on the same channel:
  // once A has B's "joined", both workers' subscriptions are in place.
  await a!.e.until(b!.joined);
  const r = await exchange(a!.e, b!.e);
  t.same(r.a, r.expectedA, 'the member on one worker: each line once, its own included');
  t.same(r.b, r.expectedB, 'the member on the other worker: each line once, its own included');
});
