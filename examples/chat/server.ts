// A browser chat with rooms: one node:http server serves the page and, on the same port, the
// WebSocket endpoint /ws?room=NAME; every connection subscribes to its room's topic, and every
// line is published to that topic (server.publish: framed once, written to every member).
//
//   npm run example:chat                      # builds, then listens on http://127.0.0.1:8080/
//   npm run example:chat -- --port 0          # any free port (the URL is printed)
//   npm run example:chat -- --workers 2       # two processes on one port, the rooms span both
//   npm run example:chat -- --redis redis://127.0.0.1:6379   # the rooms span every chat on that Redis
//
// Open the printed URL in two browser tabs and type in one of them; add #room-name to the
// URL for another room (http://127.0.0.1:8080/#games).
import { createServer } from 'node:http';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
// In your own project this import is `from 'rfcws'`; the examples import the sources
// of this checkout so that they run without installing the package.
import { WebSocketServer, type WebSocket } from '../../lib/index.js';
import { chatBroker, isPrimary, reportListening, runPrimary, tagOf } from './scale.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    workers: { type: 'string' },
    redis: { type: 'string' },
  },
  strict: true,
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port takes a port number 0-65535 (got "${values.port}")`);
  process.exit(2);
}
const workers = values.workers === undefined ? 0 : Number(values.workers);
if (values.workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) {
  console.error(`--workers takes a number of processes 1-64 (got "${values.workers}")`);
  process.exit(2);
}
const banner = (origin: string, how = ''): string =>
  `Chat on ${origin}/ (WebSocket endpoint ${origin.replace('http', 'ws')}/ws)${how}\n` +
  'Open it in two browser tabs (add #name to the URL for another room). Ctrl-C stops the server.';
// The primary of --workers serves nothing itself: it forks the workers (which run this file
// from the top and serve the chat) and waits here until they are gone, then exits.
if (workers > 0 && isPrimary()) await runPrimary(workers, (origin) => banner(origin, ` on ${workers} workers${values.redis ? ` and Redis at ${values.redis}` : ''}`));
const rooms = await chatBroker(values.redis);

// The page uses the browser's own WebSocket. Messages are put in with textContent,
// never innerHTML: they come from other users. data-state says whether the socket is
// open (the test waits for it; a user sees it in the status line).
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>rfcws chat</title>
<style>
  body { font: 16px system-ui, sans-serif; max-width: 40em; margin: 2em auto; }
  #log { list-style: none; padding: 0; min-height: 10em; border: 1px solid #ccc; }
  #log li { padding: .2em .5em; }
  #status { color: #666; }
</style>
</head>
<body data-state="connecting">
<h1>rfcws chat <small id="room"></small></h1>
<p id="status">connecting…</p>
<ul id="log"></ul>
<form id="form">
  <input id="text" autocomplete="off" maxlength="1000" placeholder="Say something" autofocus>
  <button>Send</button>
</form>
<script>
  const log = document.getElementById('log');
  const status = document.getElementById('status');
  const text = document.getElementById('text');
  const room = location.hash.slice(1) || 'lobby';
  document.getElementById('room').textContent = '#' + room;
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws?room=' + encodeURIComponent(room));
  window.onhashchange = () => location.reload();
  function setState(state, line) {
    document.body.dataset.state = state;
    status.textContent = line;
  }
  ws.onopen = () => setState('open', 'connected');
  ws.onclose = (e) => setState('closed', 'disconnected (' + e.code + (e.reason ? ' ' + e.reason : '') + ')');
  ws.onmessage = (e) => {
    const li = document.createElement('li');
    li.textContent = e.data;
    log.append(li);
  };
  document.getElementById('form').onsubmit = (e) => {
    e.preventDefault();
    if (text.value !== '' && ws.readyState === WebSocket.OPEN) ws.send(text.value);
    text.value = '';
  };
</script>
</body>
</html>
`;

const http = createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/' || req.url === '/index.html')) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(PAGE);
  } else if (req.url === '/ws') {
    // Upgrade requests never get here (they go to the 'upgrade' event); a plain GET does.
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('This is the WebSocket endpoint; the page is at /\n');
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
  }
});
http.listen(port, values.host);
await once(http, 'listening');
const address = http.address();
if (address === null || typeof address === 'string') throw new Error('the HTTP server has no TCP address');
const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
const pageOrigin = `http://${hostPart}:${address.port}`;

// Any site a user visits could open a WebSocket to this server from the user's
// browser; only the page served here may. The origin is the one printed below, so
// open exactly that URL: the same server reached under another name (localhost, a
// LAN address) is another origin and gets 403. A fixed list rather than "whatever
// the Host header says" also keeps out DNS-rebinding pages, whose Host matches them.
const wss = new WebSocketServer({
  broker: rooms.broker, // none alone; a ClusterBroker in a worker; a RedisBroker with --redis
  server: http,
  path: '/ws',
  allowedOrigins: [pageOrigin],
  maxPayload: 4096, // chat lines, not files: a larger message closes its sender with 1009
});

/** Room names: 1-32 letters, digits, '-' or '_'; anything else is the lobby. */
function roomOf(url: string): string {
  const room = new URL(url, 'http://x').searchParams.get('room') ?? '';
  return /^[\w-]{1,32}$/.test(room) ? room : 'lobby';
}

// A publish that could not reach the other servers (Redis down): the local members still got it.
wss.on('brokerError', (err) => console.error(`rooms: ${err.message}`));

let guests = 0;
wss.on('connection', (ws: WebSocket, req) => {
  // With several servers each counts its own guests: the server's tag tells them apart.
  const name = `guest ${++guests}${tagOf(rooms.broker)}`;
  const topic = `room:${roomOf(req.url)}`;
  ws.subscribe(topic);
  // server.publish reaches every member, the sender included (it sees its line arrive);
  // ws.publish would skip the sender. A member that stops reading misses lines once a
  // megabyte waits for it (maxBackpressure, 'drop'), without holding up the room.
  wss.publish(topic, `${name} joined`);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) wss.publish(topic, `${name}: ${data.toString('utf8')}`);
  });
  // By 'close' the connection has left its topics.
  ws.on('close', () => wss.publish(topic, `${name} left`));
});

if (workers > 0) reportListening(pageOrigin);
else console.log(banner(pageOrigin, values.redis ? ` with Redis at ${values.redis}` : ''));

function stop(): void {
  // wss.close() sends 1001 Going Away to every client; http.close() stops accepting.
  http.close();
  wss.close().then(rooms.close).then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
