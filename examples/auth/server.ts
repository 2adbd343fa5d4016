// An authenticated echo server. A client proves who it is with a signed token (see
// tokens.ts), sent either as `Authorization: Bearer <token>` (programs) or as a
// `session` cookie (browsers, which cannot set headers on a WebSocket). The token is
// checked in `authorize`, before the 101: a missing or bad token gets 401 with a body
// that says what is wrong, and no WebSocket is opened. The session travels to the
// 'connection' listener as authorize's `data`; when its expiry passes, the server
// closes the connection with 4001 "session expired" (4000-4999 are the codes RFC 6455
// leaves to applications), and the client logs in again.
//
//   npm run example:auth                      # builds, then listens on ws://127.0.0.1:8081/
//   npm run example:auth -- --port 0          # any free port (the URL is printed)
//
// It prints a token valid for an hour and a command that connects with it. Set
// AUTH_SECRET to sign with a fixed secret (otherwise a random one per run).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
// In your own project this import is `from 'rfcws'`; the examples import the sources
// of this checkout so that they run without installing the package.
import { WebSocketServer, type AuthorizeResult, type UpgradeRequest, type WebSocket } from '../../lib/index.js';
import { issueToken, verifyToken, type Session } from './tokens.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8081' },
    host: { type: 'string', default: '127.0.0.1' },
    // Browser pages allowed to connect (their cookies are sent along; see below).
    origin: { type: 'string', multiple: true, default: [] },
  },
  strict: true,
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port takes a port number 0-65535 (got "${values.port}")`);
  process.exit(2);
}
const secret = process.env['AUTH_SECRET'] || randomBytes(32).toString('hex');
const allowedOrigins = values.origin;

/** The token of a request: the Bearer credentials, else the `session` cookie. */
function tokenOf(req: UpgradeRequest): string | undefined {
  const auth = req.headers['authorization'];
  if (auth !== undefined) {
    const m = /^Bearer +(\S+) *$/i.exec(auth);
    return m?.[1];
  }
  return req.cookies['session'];
}

function authorize(req: UpgradeRequest): AuthorizeResult {
  const token = tokenOf(req);
  if (token === undefined) {
    return {
      accept: false,
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer realm="rfcws-example"' },
      body: 'Missing token: send "Authorization: Bearer <token>" or a "session" cookie.\n',
    };
  }
  const session = verifyToken(secret, token);
  if (session === undefined) {
    return {
      accept: false,
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer realm="rfcws-example", error="invalid_token"' },
      body: 'Invalid or expired token: log in again for a new one.\n',
    };
  }
  return { accept: true, data: session };
}

const server = new WebSocketServer({
  port,
  host: values.host,
  authorize,
  // A cookie is sent by the browser whichever page opens the WebSocket, so a cookie
  // alone would let any site act as the logged-in user (cross-site WebSocket
  // hijacking). Browsers always send Origin: admit only the pages listed with
  // --origin. Programs send no Origin and authenticate with their own token.
  allowedOrigins: (origin) => origin === undefined || allowedOrigins.includes(origin),
});

// setTimeout holds at most 2^31-1 ms (about 24.8 days); a later expiry re-arms.
const MAX_TIMER = 2 ** 31 - 1;

server.on('connection', (ws: WebSocket, _req: UpgradeRequest, data: unknown) => {
  const session = data as Session;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = session.expiresAt - Date.now();
    timer = setTimeout(() => (left > MAX_TIMER ? arm() : ws.close(4001, 'session expired')), Math.min(Math.max(left, 0), MAX_TIMER));
  };
  arm();
  ws.on('close', () => clearTimeout(timer));
  ws.on('message', (msg: Buffer, isBinary: boolean) => ws.send(msg, { binary: isBinary }));
});

const address = await server.listen();
const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
const url = `ws://${hostPart}:${address.port}/`;
const demo = issueToken(secret, 'demo', 60 * 60 * 1000);
console.log(`Authenticated echo server listening on ${url}`);
console.log(`A token for user "demo", valid for an hour:\n  ${demo}`);
console.log(`Try it: node dist/lib/cli.js connect ${url} -H "Authorization: Bearer ${demo}"`);
console.log(`   or:  node dist/lib/cli.js connect ${url} -H "Cookie: session=${demo}"`);
console.log(`Without a token: node dist/lib/cli.js connect ${url}   (401)`);

function stop(): void {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
