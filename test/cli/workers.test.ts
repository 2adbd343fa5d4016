// rfcws serve --workers N: N processes on one port, each connection logged with the worker that
// took it; SIGTERM stops them all (no orphans); a worker dying on its own stops the rest.
import t from 'tap';
import { once } from 'node:events';
import { connect } from '../../lib/client/client.js';
import { reusePortSupported } from '../../lib/cli/workers.js';
import { run, serveCli, stop } from './helpers.js';

const quiet = { keepAliveInterval: 0 };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code !== 'ESRCH';
  }
}

/** The pids of the workers, from the primary's "worker N (pid P) listening" lines. */
function workerPids(out: string): Map<number, number> {
  return new Map([...out.matchAll(/worker (\d+) \(pid (\d+)\) listening/g)].map((m) => [Number(m[1]), Number(m[2])]));
}

t.test('--workers 2: both workers serve connections on one port; SIGTERM stops every process', async (t) => {
  const server = await serveCli(t, ['--workers', '2']);
  t.match(server.out(), /^.* Starting 2 workers under node:cluster|^.* Starting 2 workers; each binds the port with reusePort/m, 'says which mode');
  t.match(server.out(), /listening on ws:\/\/127\.0\.0\.1:\d+\/ \(HTTP\/1\.1\) with 2 workers \((cluster|reusePort)\)/);
  const pids = workerPids(server.out());
  t.equal(pids.size, 2, 'two workers reported listening');
  let served = new Set<string>();
  for (let i = 0; i < 10 && served.size < 2; i++) {
    const ws = await connect(server.url, quiet);
    ws.send(`hello ${i}`);
    t.equal(String((await once(ws, 'message'))[0]), `hello ${i}`, 'echoed');
    await server.waitOut(new RegExp(`(?:worker \\d open  127\\.0\\.0\\.1[^]*?){${i + 1}}`));
    served = new Set([...server.out().matchAll(/worker (\d) open  127\.0\.0\.1/g)].map((m) => m[1]!));
    ws.terminate();
  }
  t.same([...served].sort(), ['1', '2'], 'connections were taken by worker 1 and worker 2');
  t.equal(await stop(server), 0, 'exit 0');
  t.match(server.out(), /Shutting down: stopping 2 workers/);
  for (const [id, pid] of pids) t.notOk(alive(pid), `worker ${id} (pid ${pid}) is gone`);
});

t.test('a worker that dies on its own stops the others; the primary exits 1', async (t) => {
  const server = await serveCli(t, ['--workers', '2', '--quiet']);
  const pids = workerPids(server.out());
  process.kill(pids.get(1)!, 'SIGKILL');
  t.equal(await server.exited, 1);
  t.match(server.out(), /worker 1 \(pid \d+\) exited on its own \(SIGKILL\): stopping the others/);
  t.notOk(alive(pids.get(2)!), 'worker 2 is gone too');
});

t.test('--workers takes a whole number from 1', async (t) => {
  for (const bad of ['0', 'two', '-1']) {
    const r = run(t, ['serve', '--port', '0', `--workers=${bad}`]);
    t.equal(await r.exited, 2, `--workers ${bad}: exit 2`);
    t.match(r.err(), /^rfcws serve: --workers takes a whole number from 1 to 1024 \(got "-?\w+"\) \(see rfcws serve --help\)\n$/);
  }
});

t.test('reusePort where Node has it: Linux with Node 22.12+ (22.x) or 23.1+', async (t) => {
  t.equal(reusePortSupported('20.20.2', 'linux'), false);
  t.equal(reusePortSupported('22.11.0', 'linux'), false);
  t.equal(reusePortSupported('22.12.0', 'linux'), true);
  t.equal(reusePortSupported('23.0.0', 'linux'), false);
  t.equal(reusePortSupported('23.1.0', 'linux'), true);
  t.equal(reusePortSupported('24.0.0', 'linux'), true);
  t.equal(reusePortSupported('24.0.0', 'darwin'), false, 'Linux only');
});
