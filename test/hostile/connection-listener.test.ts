// Failures found while hardening, kept as regression tests once fixed.
import t from 'tap';
import { connect } from '../../lib/client/client.js';
import { listen, sleep } from './helpers.js';

t.test(
  "an exception thrown by a 'connection' listener is not swallowed silently",
  async (t) => {
    const { wss, port } = await listen(t);
    const surfaced: Error[] = [];
    wss.on('error', (err: Error) => surfaced.push(err));
    wss.on('connection', () => {
      throw new Error('bug in the application');
    });
    const ws = await connect(`ws://127.0.0.1:${port}/`, { keepAliveInterval: 0 });
    t.teardown(() => ws.terminate());
    const [code] = await new Promise<[number]>((resolve) => ws.once('close', (c: number) => resolve([c])));
    await sleep(10);
    t.equal(surfaced.length, 1, "the application's exception reaches the server's 'error' event");
    t.equal(surfaced[0]?.message, 'bug in the application');
    t.equal(code, 1011, 'the client is told the server failed');
  },
);
