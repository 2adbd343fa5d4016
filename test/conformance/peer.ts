/**
 * The checking peer of the conformance suite: the shared RawPeer (test/helpers/raw-peer.ts)
 * plus what the conformance cases assert on. It reassembles the library's frames into
 * messages and control events, and records every frame that breaks RFC 6455 framing rules
 * whatever the case (masking by role, control frame limits, RSV bits, opcodes, anything
 * after the close frame).
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { OP, type Frame } from '../helpers/frames.js';
import { acceptFor, parseHeaders, upgradeRequest } from '../helpers/http.js';
import { RawPeer, type Role } from '../helpers/raw-peer.js';
import { ScriptedServer, type Answer, type UpgradeRequestSeen } from '../helpers/raw-server.js';

export { pause } from '../helpers/raw-peer.js';

/** What came back, reassembled: messages are joined fragments (payload still compressed if rsv1). */
export type PeerEvent =
  | { kind: 'message'; binary: boolean; data: Buffer; compressed: boolean; frames: number }
  | { kind: 'ping' | 'pong'; data: Buffer }
  | { kind: 'close'; code: number; reason: Buffer; payload: Buffer };

export class Peer extends RawPeer {
  readonly events: PeerEvent[] = [];
  private readonly problems: string[] = [];
  private partial: { binary: boolean; parts: Buffer[]; compressed: boolean; frames: number } | null = null;

  constructor(socket: net.Socket, role: Role, initial: Buffer = Buffer.alloc(0)) {
    super(socket, role, initial);
  }

  /** Frames from the library that break RFC 6455 framing rules regardless of the case (undecodable bytes too). */
  get violations(): string[] {
    return [...this.decodeErrors, ...this.problems];
  }

  /** The close frame received from the library, if any. */
  get close(): Extract<PeerEvent, { kind: 'close' }> | undefined {
    return this.events.find((e): e is Extract<PeerEvent, { kind: 'close' }> => e.kind === 'close');
  }

  waitClose(timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.close !== undefined, timeoutMs, 'a close frame');
  }

  /** Waits for `n` events (messages, pings, pongs, close) in total. */
  waitEvents(n: number, timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.events.length >= n || this.remoteClosed, timeoutMs, `${n} events`);
  }

  /** A short summary of what arrived, for failure messages. */
  override describe(): string {
    const ev = this.events.map((e) => {
      if (e.kind === 'close') return `close(${e.code}${e.reason.length ? ` "${e.reason.toString()}"` : ''})`;
      if (e.kind === 'message') return `${e.binary ? 'binary' : 'text'}(${e.data.length} B${e.compressed ? ', compressed' : ''})`;
      return `${e.kind}(${e.data.length} B)`;
    });
    const violations = this.violations;
    return `[${ev.join(', ')}]${this.remoteClosed ? ' + TCP closed' : ''}` +
      (violations.length ? ` violations: ${violations.join('; ')}` : '');
  }

  protected override onFrame(f: Frame): void {
    const mustMask = this.role === 'server';
    if (f.masked !== mustMask) this.problems.push(`frame ${f.opcode} ${f.masked ? 'masked' : 'unmasked'} from a ${mustMask ? 'client' : 'server'}`);
    if (this.close) { this.problems.push(`frame opcode ${f.opcode} after the close frame`); return; }
    if (f.opcode >= 8) {
      if (!f.fin || f.payload.length > 125) this.problems.push(`invalid control frame ${f.opcode}`);
      if (f.rsv) this.problems.push(`rsv ${f.rsv} on control frame`);
      if (f.opcode === OP.CLOSE) {
        const p = f.payload;
        this.events.push({
          kind: 'close',
          code: p.length >= 2 ? p.readUInt16BE(0) : 1005,
          reason: p.subarray(2),
          payload: p,
        });
        if (p.length === 1) this.problems.push('close payload of 1 byte');
      } else if (f.opcode === OP.PING || f.opcode === OP.PONG) {
        this.events.push({ kind: f.opcode === OP.PING ? 'ping' : 'pong', data: f.payload });
      } else {
        this.problems.push(`reserved control opcode ${f.opcode}`);
      }
      return;
    }
    if (f.opcode === OP.CONT) {
      if (!this.partial) { this.problems.push('continuation without a message'); return; }
      if (f.rsv) this.problems.push(`rsv ${f.rsv} on a continuation frame`);
      this.partial.parts.push(f.payload);
      this.partial.frames++;
    } else if (f.opcode === OP.TEXT || f.opcode === OP.BINARY) {
      if (this.partial) this.problems.push('new message inside a fragmented one');
      if (f.rsv & 3) this.problems.push(`rsv ${f.rsv} on a data frame`);
      this.partial = { binary: f.opcode === OP.BINARY, parts: [f.payload], compressed: (f.rsv & 4) !== 0, frames: 1 };
    } else {
      this.problems.push(`reserved data opcode ${f.opcode}`);
      return;
    }
    if (f.fin) {
      const m = this.partial!;
      this.partial = null;
      this.events.push({ kind: 'message', binary: m.binary, data: Buffer.concat(m.parts), compressed: m.compressed, frames: m.frames });
    }
  }
}

export interface ClientHandshake {
  status: number;
  headers: Record<string, string>;
  /** Present when the server answered 101 with the right accept value. */
  peer?: Peer;
  socket: net.Socket;
}

export interface DialOptions {
  path?: string;
  /** Sec-WebSocket-Extensions offer, omitted when undefined. */
  extensions?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Dials 127.0.0.1:port as a raw client with a fresh key and performs the opening handshake. */
export async function dial(port: number, opts: DialOptions = {}): Promise<ClientHandshake> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  const peer = new Peer(socket, 'client');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const key = randomBytes(16).toString('base64');
  const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, 'Sec-WebSocket-Key': key };
  if (opts.extensions !== undefined) headers['Sec-WebSocket-Extensions'] = opts.extensions;
  void peer.write(upgradeRequest({ path: opts.path, headers: { ...headers, ...opts.headers } }));
  await peer.waitFor(() => peer.head !== '' || peer.closed, opts.timeoutMs ?? 5000, 'the HTTP head');
  if (!peer.head) throw new Error(`connection closed during the HTTP head: ${JSON.stringify(peer.all().toString('latin1'))}`);
  const [statusLine, ...headerLines] = peer.head.slice(0, -4).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const answer = parseHeaders(headerLines);
  const ok = status === 101 && answer['sec-websocket-accept'] === acceptFor(key);
  return { status, headers: answer, peer: ok ? peer : undefined, socket };
}

/** The conformance flavour of the scripted server: connections come as checking peers. */
export function scriptedServer(answer?: (req: UpgradeRequestSeen) => Answer): Promise<ScriptedServer<Peer>> {
  return ScriptedServer.listen(answer ?? (() => ({})), (socket, initial) => new Peer(socket, 'server', initial));
}

export { ScriptedServer };
export type { Answer, UpgradeRequestSeen };
