/**
 * Scripted raw servers for tests of the library's client: they read one request head and
 * answer with exact bytes, or with a valid 101 after which the test owns the socket (raw,
 * or as a server-role RawPeer).
 */
import { once } from 'node:events';
import * as net from 'node:net';
import { onRequestHead, parseHeaders, switchingProtocols } from './http.js';
import { RawPeer } from './raw-peer.js';

type Test = { teardown(fn: () => unknown): void };

export interface Scripted {
  port: number;
  /** ws://127.0.0.1:port/ */
  url: string;
  /** Request heads received, in order. */
  requests: string[];
  connections: number;
  /** The connections still open. */
  sockets: Set<net.Socket>;
}

/**
 * A raw server that reads one request head per connection and lets `script` answer.
 * `script` gets the socket, the request head, its Sec-WebSocket-Key and any bytes that
 * came after the head. Every socket is destroyed at teardown.
 */
export async function scriptedServer(
  t: Test,
  script: (socket: net.Socket, head: string, key: string, rest: Buffer) => void,
): Promise<Scripted> {
  const state: Scripted = { port: 0, url: '', requests: [], connections: 0, sockets: new Set() };
  const server = net.createServer((socket) => {
    state.connections++;
    state.sockets.add(socket);
    socket.on('close', () => state.sockets.delete(socket));
    socket.on('error', () => {});
    onRequestHead(socket, (head, key, rest) => {
      state.requests.push(head);
      script(socket, head, key, rest);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.port = (server.address() as net.AddressInfo).port;
  state.url = `ws://127.0.0.1:${state.port}/`;
  t.teardown(() => {
    for (const s of state.sockets) s.destroy();
    server.close();
  });
  return state;
}

/**
 * A raw server that answers every request head with a valid 101 (with `extensions` as
 * its Sec-WebSocket-Extensions, if given) and then hands the socket to `after`, for tests
 * of the library's client against a hostile server.
 */
export function upgradeServer(t: Test, after: (socket: net.Socket) => void, extensions = ''): Promise<Scripted> {
  return scriptedServer(t, (socket, _head, key) => {
    socket.write(switchingProtocols(key, extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : ''));
    after(socket);
  });
}

export interface UpgradeRequestSeen {
  requestLine: string;
  headers: Record<string, string>;
}

/**
 * How the scripted server answers one upgrade: extra 101 headers (and bytes written in the
 * same write as the 101 head, e.g. a first frame), or a raw response.
 */
export type Answer = { headers?: Record<string, string>; after?: Buffer } | { raw: string };

/**
 * A raw server that answers the library client's upgrade and hands each accepted
 * connection to the test as a server-role peer (a RawPeer, or what `makePeer` builds).
 */
export class ScriptedServer<P extends RawPeer = RawPeer> {
  private readonly server = net.createServer();
  private readonly pending: Array<(c: { peer: P; request: UpgradeRequestSeen }) => void> = [];
  private readonly ready: Array<{ peer: P; request: UpgradeRequestSeen }> = [];
  readonly errors: Error[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly answer: (req: UpgradeRequestSeen) => Answer,
    private readonly makePeer: (socket: net.Socket, initial: Buffer) => P,
  ) {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
      s.on('error', () => {});
      const timer = setTimeout(() => {
        this.errors.push(new Error('timed out reading the HTTP head'));
        s.destroy();
      }, 5000);
      s.once('close', () => clearTimeout(timer));
      onRequestHead(s, (head, _key, rest) => {
        clearTimeout(timer);
        try {
          this.onHead(s, head, rest);
        } catch (e) {
          this.errors.push(e as Error);
          s.destroy();
        }
      });
    });
  }

  static async listen<P extends RawPeer = RawPeer>(
    answer: (req: UpgradeRequestSeen) => Answer = () => ({}),
    makePeer?: (socket: net.Socket, initial: Buffer) => P,
  ): Promise<ScriptedServer<P>> {
    const make = makePeer ?? ((socket: net.Socket, initial: Buffer) => new RawPeer(socket, 'server', initial) as P);
    const s = new ScriptedServer<P>(answer, make);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /** The next upgraded connection. */
  accept(timeoutMs = 5000): Promise<{ peer: P; request: UpgradeRequestSeen }> {
    const r = this.ready.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no client connected')), timeoutMs);
      this.pending.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  /** Stops listening and destroys every connection still open, so a test can never hang here. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private onHead(socket: net.Socket, head: string, rest: Buffer): void {
    const [requestLine, ...headerLines] = head.slice(0, -4).split('\r\n');
    const request = { requestLine, headers: parseHeaders(headerLines) };
    const answer = this.answer(request);
    if ('raw' in answer) {
      socket.end(answer.raw);
      return;
    }
    const extra = Object.entries(answer.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const response = Buffer.from(switchingProtocols(request.headers['sec-websocket-key'] ?? '', extra), 'latin1');
    socket.write(Buffer.concat([response, answer.after ?? Buffer.alloc(0)]));
    const c = { peer: this.makePeer(socket, rest), request };
    const w = this.pending.shift();
    if (w) w(c);
    else this.ready.push(c);
  }
}
