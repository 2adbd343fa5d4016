// Connection.sendEncoded: a frame encoded elsewhere (a published message, lib/pubsub) is written
// as is, in order with the connection's own sends, including behind a pending compression and
// while its own bytes are still being produced; refused where a data frame may not go.
import t from 'tap';
import { PerMessageDeflate } from '../../lib/extensions/permessage-deflate.js';
import type { EncodedFrame } from '../../lib/protocol/connection.js';
import { Recorder } from './fixtures/recorder.js';

const params = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

function ready(bytes: Buffer): EncodedFrame {
  return { chunks: [bytes], size: bytes.length - 2, whenReady: (cb) => cb() };
}

/** A frame whose bytes come later: `settle()` provides them. */
function later(bytes: Buffer): EncodedFrame & { settle(): void } {
  const waiters: Array<() => void> = [];
  const f = {
    chunks: null as Buffer[] | null,
    size: bytes.length - 2,
    whenReady: (cb: () => void) => { if (f.chunks) cb(); else waiters.push(cb); },
    settle: () => { f.chunks = [bytes]; for (const cb of waiters) cb(); },
  };
  return f;
}

const text = (s: string) => Buffer.concat([Buffer.from([0x81, s.length]), Buffer.from(s)]);

t.test('written at once, the very bytes given, between the connection\'s own frames', async (t) => {
  const rec = new Recorder({ role: 'server' });
  rec.conn.send(Buffer.from('a'), false);
  t.equal(rec.conn.sendEncoded(ready(text('pub'))), true);
  rec.conn.send(Buffer.from('b'), false);
  t.same(rec.output(), Buffer.concat([text('a'), text('pub'), text('b')]));
  t.equal(rec.conn.pendingSendBytes, 0);
});

t.test('behind a pending compression it waits its turn; a frame still being produced holds later sends', async (t) => {
  const rec = new Recorder({ role: 'server', transform: new PerMessageDeflate('server', params, { maxPayload: 0 }) });
  rec.conn.send(Buffer.from('x'.repeat(100)), false); // compressed: completes later
  t.equal(rec.conn.sendEncoded(ready(text('pub1'))), true);
  const pending = later(text('pub2'));
  t.equal(rec.conn.sendEncoded(pending), true);
  rec.conn.send(Buffer.from('own'), false, { compress: false });
  t.equal(rec.written.length, 0, 'nothing written while the compression runs');
  t.equal(rec.conn.pendingSendBytes, 100 + 4 + 4 + 3, 'queued frames count their payload sizes in pendingSendBytes');
  while (rec.written.length === 0) await new Promise((r) => setImmediate(r));
  const first = rec.written.length;
  t.equal(rec.output()[0], 0xc1, 'the compressed message first (FIN, RSV1, text)');
  t.same(rec.output().subarray(-text('pub1').length), text('pub1'), 'then the ready published frame; the pending one holds the rest');
  pending.settle();
  t.ok(rec.written.length > first);
  t.same(rec.output().subarray(-(text('pub2').length + text('own').length)), Buffer.concat([text('pub2'), text('own')]));
  t.equal(rec.conn.pendingSendBytes, 0);
  rec.conn.destroy();
});

t.test('refused (false, nothing written) during a streamed message, after close, and in the client role', async (t) => {
  const rec = new Recorder({ role: 'server' });
  rec.conn.send(Buffer.from('part'), false, { fin: false });
  t.equal(rec.conn.sendEncoded(ready(text('pub'))), false);
  rec.conn.send(Buffer.from('end'), false, { fin: true });
  t.equal(rec.conn.sendEncoded(ready(text('ok'))), true);
  rec.conn.close(1000);
  const before = rec.output().length;
  t.equal(rec.conn.sendEncoded(ready(text('late'))), false);
  t.equal(rec.output().length, before);
  const client = new Recorder({ role: 'client' });
  t.equal(client.conn.sendEncoded(ready(text('x'))), false, 'client frames must be masked one by one');
  t.equal(client.written.length, 0);
});
