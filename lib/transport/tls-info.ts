import type { TLSSocket } from 'node:tls';
import type { TlsInfo } from './transport.js';

/**
 * The TLS details of a socket (a transport's own, or an HTTP/2 session's),
 * read lazily: most connections never ask.
 */
export class SocketTlsInfo implements TlsInfo {
  constructor(private readonly socket: TLSSocket) {}
  get authorized(): boolean { return this.socket.authorized; }
  get authorizationError(): string | undefined {
    const e = this.socket.authorizationError as unknown;
    return e === null || e === undefined ? undefined : String(e);
  }
  get alpnProtocol(): string | false { return this.socket.alpnProtocol ?? false; }
  get protocol(): string | null { return this.socket.getProtocol(); }
  peerCertificate(): object { return this.socket.getPeerCertificate(); }
}
