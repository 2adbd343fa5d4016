/**
 * The `raw net` floor of `--only fanout`: a fan-out server on bare `net` that does only what any
 * WebSocket server must (answer the upgrade, unmask each client frame, frame it unmasked) and
 * then writes like the best plain-Node code would: every frame received in a tick is framed once,
 * the frames of the tick are concatenated once, and each other socket gets that one buffer with
 * one `socket.write` on the next tick. No limits, no close handshake, no UTF-8 check, no
 * backpressure: what is left is the cost of Node's own socket write path per subscriber, the
 * part no library on `net` can avoid.
 */
import net from 'node:net';
import { createHash } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

interface Peer {
  sock: net.Socket;
  /** Bytes of an incomplete frame carried to the next read. */
  rest: Buffer | null;
  /** It sent one of the frames being flushed. */
  sender: boolean;
}

const peers: Peer[] = [];
/** Frames of this tick (server framing) and who sent each. */
let frames: Buffer[] = [];
let from: Peer[] = [];

/** Whole masked client frames at the start of `buf` become unmasked server frames; returns the bytes left over. */
function takeFrames(peer: Peer, buf: Buffer): Buffer | null {
  let o = 0;
  for (;;) {
    if (buf.length - o < 2) break;
    const b0 = buf[o]!;
    let len = buf[o + 1]! & 0x7f;
    let hl = 2;
    if (len === 126) {
      if (buf.length - o < 4) break;
      len = buf.readUInt16BE(o + 2);
      hl = 4;
    } else if (len === 127) {
      if (buf.length - o < 10) break;
      len = buf.readUInt32BE(o + 2) * 2 ** 32 + buf.readUInt32BE(o + 6);
      hl = 10;
    }
    if (buf.length - o < hl + 4 + len) break;
    if ((b0 & 0x0f) === 0x8) {
      peer.sock.destroy();
      return null;
    }
    // Server frame: the client's header without the mask bit and key, then the unmasked payload.
    const out = Buffer.allocUnsafe(hl + len);
    buf.copy(out, 0, o, o + hl);
    out[1] = out[1]! & 0x7f;
    const k = o + hl;
    const p = k + 4;
    for (let i = 0; i < len; i++) out[hl + i] = buf[p + i]! ^ buf[k + (i & 3)]!;
    queue(peer, out);
    o = p + len;
  }
  return o === buf.length ? null : buf.subarray(o);
}

function queue(peer: Peer, frame: Buffer): void {
  if (frames.length === 0) process.nextTick(flush);
  frames.push(frame);
  from.push(peer);
}

/** One write per socket: the tick's frames joined once, and a socket's own frames left out of its copy. */
function flush(): void {
  const fs = frames;
  const senders = from;
  frames = [];
  from = [];
  const all = fs.length === 1 ? fs[0]! : Buffer.concat(fs);
  for (const s of senders) s.sender = true;
  for (let i = 0; i < peers.length; i++) {
    const peer = peers[i]!;
    if (!peer.sender) {
      peer.sock.write(all);
      continue;
    }
    const others = fs.filter((_, j) => senders[j] !== peer);
    if (others.length > 0) peer.sock.write(Buffer.concat(others));
  }
  for (const s of senders) s.sender = false;
}

function onUpgraded(peer: Peer, head: Buffer): void {
  peers.push(peer);
  const onData = (chunk: Buffer): void => {
    const buf = peer.rest === null ? chunk : Buffer.concat([peer.rest, chunk]);
    peer.rest = takeFrames(peer, buf);
  };
  peer.sock.on('data', onData);
  if (head.length > 0) onData(head);
}

/** Listen on 127.0.0.1 (ephemeral port); resolves with the port. */
export async function startRawFanout(host: string, backlog: number): Promise<number> {
  const srv = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('error', () => {});
    sock.on('close', () => {
      const i = peers.findIndex((p) => p.sock === sock);
      if (i >= 0) peers.splice(i, 1);
    });
    let acc = Buffer.alloc(0);
    const onHead = (c: Buffer): void => {
      acc = Buffer.concat([acc, c]);
      const end = acc.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onHead);
      const key = /sec-websocket-key:\s*(\S+)/i.exec(acc.subarray(0, end).toString('latin1'))?.[1] ?? '';
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      onUpgraded({ sock, rest: null, sender: false }, acc.subarray(end + 4));
    };
    sock.on('data', onHead);
  });
  await new Promise<void>((r) => srv.listen(0, host, backlog, r));
  return (srv.address() as net.AddressInfo).port;
}
