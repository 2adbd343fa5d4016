/**
 * An in-process HTTP CONNECT proxy for client tests: records each CONNECT head and
 * either opens the tunnel (to the host:port asked for, like a real proxy) or lets
 * `script` answer with exact bytes (refusals, garbage, silence).
 */
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { onRequestHead } from './http.js';

type Test = { teardown(fn: () => unknown): void };

export interface ConnectProxy {
  port: number;
  /** http://127.0.0.1:port */
  url: string;
  /** CONNECT heads received, in order. */
  requests: string[];
  /** Sockets still open (client side and tunnel side). */
  sockets: Set<net.Socket>;
}

/**
 * `script` returns true when it answered itself; otherwise the tunnel is opened. With
 * `pair` the proxy is reached over TLS (an https:// proxy).
 */
export async function connectProxy(
  t: Test,
  script?: (socket: net.Socket, head: string) => boolean,
  pair?: { key: Buffer; cert: Buffer },
): Promise<ConnectProxy> {
  const state: ConnectProxy = { port: 0, url: '', requests: [], sockets: new Set() };
  const track = (s: net.Socket): void => {
    state.sockets.add(s);
    s.on('close', () => state.sockets.delete(s));
    s.on('error', () => {});
  };
  const onSocket = (socket: net.Socket): void => {
    track(socket);
    onRequestHead(socket, (head, _key, rest) => {
      state.requests.push(head);
      if (script?.(socket, head)) return;
      const m = /^CONNECT (\S+):(\d+) HTTP\/1\.1\r\n/.exec(head);
      if (m === null) return void socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      const upstream = net.connect({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) });
      track(upstream);
      upstream.once('connect', () => {
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (rest.length > 0) upstream.write(rest);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.once('error', () => socket.destroy());
      socket.once('close', () => upstream.destroy());
      upstream.once('close', () => socket.destroy());
    });
  };
  const server = pair === undefined ? net.createServer(onSocket) : tls.createServer(pair, onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.port = (server.address() as net.AddressInfo).port;
  state.url = `${pair === undefined ? 'http' : 'https'}://127.0.0.1:${state.port}`;
  t.teardown(() => {
    for (const s of state.sockets) s.destroy();
    server.close();
  });
  return state;
}
