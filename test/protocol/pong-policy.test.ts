// The core's pong policy (at most one pong owed, whatever stalls the send path) and its
// read flow signal, byte exact, without sockets.
import t from 'tap';
import { Connection, RECEIVE_HIGH_WATER_MARK, type ConnectionHandler } from '../../lib/protocol/connection.js';
import type { MessageTransform } from '../../lib/protocol/extension.js';
import { cframe, parseFrames } from '../helpers/frames.js';

const PING = 0x9, PONG = 0xa, TEXT = 0x1;

/** A transform whose callbacks wait until release() (a busy zlib). */
class StalledTransform implements MessageTransform {
  held: Array<() => void> = [];
  compress(data: Buffer, _fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void {
    this.held.push(() => cb(null, data));
  }
  decompress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void {
    this.held.push(() => cb(null, fin ? data : undefined));
  }
  release(): void {
    const h = this.held;
    this.held = [];
    for (const f of h) f();
  }
  dispose(): void {}
}

function recorder(writeResult: () => boolean = () => true) {
  const written: Buffer[] = [];
  const reading: boolean[] = [];
  const handler: ConnectionHandler = {
    write: (chunks) => {
      for (const c of chunks) written.push(Buffer.from(c));
      return writeResult();
    },
    onMessage() {}, onPing() {}, onPong() {}, onCloseFrame() {}, onCloseWritten() {}, onFail() {},
    setReading: (on) => { reading.push(on); },
  };
  return { handler, written, reading, frames: () => parseFrames(Buffer.concat(written)) };
}

function pings(n: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(i);
    out.push(cframe({ opcode: PING, payload: p }));
  }
  return Buffer.concat(out);
}

t.test('behind a stalled compression, 10,000 pings leave one pong owed, answering the latest', async (t) => {
  const r = recorder();
  const z = new StalledTransform();
  const conn = new Connection(r.handler, { role: 'server', transform: z });
  conn.send(Buffer.from('hello'), false);
  conn.receive(pings(10_000));
  t.equal(r.written.length, 0, 'nothing passes the stalled message');
  t.equal(conn.pendingSendBytes, 5 + 4, 'the message and one 4-byte pong are counted');
  z.release();
  const f = r.frames();
  t.same(f.map((x) => x.opcode), [TEXT, PONG]);
  t.equal(f[1]!.payload.readUInt32BE(0), 9_999);
  t.equal(conn.pendingSendBytes, 0);
});

t.test('while the transport is above its mark, pongs collapse into one owed pong until drained()', async (t) => {
  let blocked = true;
  const r = recorder(() => !blocked);
  const conn = new Connection(r.handler, { role: 'server' });
  conn.receive(pings(1000));
  t.same(r.frames().map((x) => x.payload.readUInt32BE(0)), [0], 'the first pong went out, then the transport said it was full');
  t.equal(conn.pendingSendBytes, 4, 'one owed pong is counted');
  blocked = false;
  conn.drained();
  const f = r.frames();
  t.same(f.map((x) => x.payload.readUInt32BE(0)), [0, 999], 'on drain, one pong for the latest ping');
  t.equal(conn.pendingSendBytes, 0);
  conn.receive(pings(1));
  t.equal(r.frames().length, 3, 'after draining, pongs are written at once again');
});

t.test('an owed pong is dropped once our close is sent', async (t) => {
  let blocked = true;
  const r = recorder(() => !blocked);
  const conn = new Connection(r.handler, { role: 'server' });
  conn.receive(pings(3));
  conn.close(1000);
  blocked = false;
  conn.drained();
  t.same(r.frames().map((x) => x.opcode), [PONG, 0x8], 'no pong after the close frame');
});

t.test('queued control frames count toward pendingSendBytes', async (t) => {
  const r = recorder();
  const z = new StalledTransform();
  const conn = new Connection(r.handler, { role: 'server', transform: z });
  conn.send(Buffer.alloc(10), true);
  conn.ping(Buffer.alloc(100));
  conn.pong(Buffer.alloc(20));
  t.equal(conn.pendingSendBytes, 130);
  z.release();
  t.equal(conn.pendingSendBytes, 0);
  t.equal(r.frames().length, 3);
});

t.test('read flow: pause stops reading at once; unparsed input past the mark stops it too', async (t) => {
  const r = recorder();
  const z = new StalledTransform();
  const conn = new Connection(r.handler, { role: 'server', transform: z });
  conn.pause();
  conn.resume();
  t.same(r.reading, [false, true], 'pause()/resume()');
  conn.pause(false);
  t.same(r.reading, [false, true], 'a short hold does not stop reading');
  conn.receive(Buffer.alloc(0));
  const big = cframe({ opcode: TEXT, payload: Buffer.alloc(RECEIVE_HIGH_WATER_MARK + 10, 0x61) });
  conn.receive(big);
  t.same(r.reading, [false, true, false], 'past the mark while held: stop reading');
  conn.resume();
  t.same(r.reading, [false, true, false, true], 'parsed on resume: read again');
  // A compressed frame waiting for inflate holds the input behind it.
  const rsv1 = Buffer.from(cframe({ opcode: TEXT, payload: 'x' }));
  rsv1[0] |= 0x40;
  conn.receive(rsv1);
  conn.receive(cframe({ opcode: TEXT, payload: Buffer.alloc(RECEIVE_HIGH_WATER_MARK, 0x62) }));
  t.equal(r.reading.at(-1), false, 'input piles up behind the inflate: stop reading');
  z.release();
  t.equal(r.reading.at(-1), true, 'the inflate finished and the input was parsed: read again');
});
