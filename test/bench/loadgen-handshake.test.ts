// The native load generator of the handshake-rate cell (bench/loadgen-handshake.c through
// bench/handshake-native.ts): it compiles with the system `cc`, completes exactly 100 cycles against
// this project's server with no error, and refuses a wrong Sec-WebSocket-Accept and a wrong echo.
import t from 'tap';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { buildNativeGenerator, type NativeGenerator } from '../../bench/handshake-native.js';
import { WebSocketServer } from '../../lib/index.js';

const hasCc = (() => { try { execFileSync('cc', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

/** A one-shot fake server: answers every upgrade with `head(key)`, then echoes what `echo` makes of the frame. */
async function fakeServer(head: (key: string) => string, echo: (frame: Buffer) => Buffer): Promise<net.Server> {
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    let acc = Buffer.alloc(0); let upgraded = false;
    s.on('data', (c) => {
      acc = Buffer.concat([acc, c]);
      if (!upgraded) {
        const e = acc.indexOf('\r\n\r\n');
        if (e < 0) return;
        const key = /Sec-WebSocket-Key: ([^\r]+)/.exec(acc.toString('latin1'))![1]!;
        s.write(head(key));
        upgraded = true; acc = acc.subarray(e + 4);
      }
      if (acc.length >= 22) s.write(echo(acc.subarray(0, 22))); // 16 B masked text: 2 + 4 + 16
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return srv;
}

const accept = (key: string) => createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
const head101 = (a: string) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nsec-websocket-accept:  ${a} \r\n\r\n`;
/** The server's unmasked echo of a masked client frame. */
const unmask = (f: Buffer) => {
  const p = Buffer.from(f.subarray(6)); for (let i = 0; i < p.length; i++) p[i]! ^= f[2 + (i & 3)]!;
  return Buffer.concat([Buffer.from([f[0]!, p.length]), p]);
};

t.test('native handshake generator', { skip: hasCc ? false : 'no `cc` (Debian package gcc)' }, async (t) => {
  const gen = buildNativeGenerator(undefined);
  if (typeof gen === 'string') { t.fail(`does not build: ${gen}`); return; }
  t.teardown(() => (gen as NativeGenerator).dispose());
  const base = { parallel: 4, warmupMs: 0, mode: 'ws' as const };

  t.test('100 cycles against this project\'s server, every echo checked, no error', async (t) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (ws: any) => { ws.on('message', (d: Buffer, bin: boolean) => ws.send(d, { binary: bin })); ws.on('error', () => {}); });
    wss.on('error', () => {});
    const { port } = await wss.listen();
    t.teardown(() => wss.close(1000));
    const r = await gen.handshakes({ ...base, port, durationMs: 60_000, limit: 100 });
    t.equal(r.errors, 0, r.firstError);
    t.equal(r.completed, 100);
  });

  t.test('header names are case-insensitive and values trimmed: a correct fake server passes', async (t) => {
    const srv = await fakeServer((k) => head101(accept(k)), unmask);
    t.teardown(() => srv.close());
    const r = await gen.handshakes({ ...base, port: (srv.address() as net.AddressInfo).port, durationMs: 60_000, limit: 20 });
    t.equal(r.errors, 0, r.firstError);
    t.equal(r.completed, 20);
  });

  t.test('a wrong Sec-WebSocket-Accept is an error, not a handshake', async (t) => {
    const srv = await fakeServer((k) => head101(accept(k + 'x')), unmask);
    t.teardown(() => srv.close());
    const r = await gen.handshakes({ ...base, port: (srv.address() as net.AddressInfo).port, durationMs: 200 });
    t.equal(r.completed, 0);
    t.ok(r.errors > 0);
    t.equal(r.firstError, 'wrong Sec-WebSocket-Accept');
  });

  t.test('an echo differing in one byte is an error', async (t) => {
    const srv = await fakeServer((k) => head101(accept(k)), (f) => { const e = unmask(f); e[e.length - 1]! ^= 1; return e; });
    t.teardown(() => srv.close());
    const r = await gen.handshakes({ ...base, port: (srv.address() as net.AddressInfo).port, durationMs: 200 });
    t.equal(r.completed, 0);
    t.ok(r.errors > 0);
    t.equal(r.firstError, 'echo mismatch after the handshake');
  });
});
