// `rfcws serve`: an echo (or broadcast) server that logs every connection.
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '../server/server.js';
import type { UpgradeRequest } from '../handshake/request.js';
import type { Broker } from '../pubsub/broker.js';
import { ClusterBroker } from '../pubsub/cluster-broker.js';
import type { WebSocket } from '../websocket.js';
import { intOption, parse, readFileFor, UsageError } from './args.js';
import { BrokerFailureLog, loggedBroker } from './broker-log.js';
import { connectRedis, redisUrlOption } from './redis.js';
import { reportListening, runWorkers, workerRole } from './workers.js';

export const SERVE_USAGE = `Usage: rfcws serve [options]

Runs a WebSocket server that echoes every message back to its sender (or, with --broadcast,
sends it to every connected client) and logs each connection.

Options:
  --port <n>                   port to listen on (default 8080; 0 = any free port)
  --host <addr>                address to bind (default 127.0.0.1)
  --path <path>                accept upgrades only on this path (repeatable; default: any)
  --tls-cert <file>            serve wss:// with this PEM certificate (chain); needs --tls-key.
                               HTTP/2 (RFC 8441, ALPN h2) and HTTP/1.1 on the same port
  --tls-key <file>             the PEM private key of --tls-cert
  --h2c                        without TLS: also serve cleartext HTTP/2 (prior knowledge) beside
                               HTTP/1.1 on the same port
  -s, --subprotocol <name>     a subprotocol the server speaks (repeatable; the client's first
                               offer that is listed wins)
  --origin <origin>            allow only this Origin (repeatable); others, and requests
                               without Origin, get 403
  --broadcast                  send every message to every connected client (a chat room):
                               each joins the topic "broadcast", each message is published to
                               it (with --workers or --redis: the clients of every server)
  --max-payload <bytes>        largest message accepted (default 64 MiB); larger: close 1009
  --keepalive <seconds>        ping interval; a silent peer is dropped after as long again
                               (0 = off; default 30)
  --no-deflate                 do not negotiate permessage-deflate (on by default)
  --workers <n>                run n servers on the port, one per process (node:cluster; each
                               with reusePort on Node >= 22.12 on Linux); topics cross them by
                               cluster IPC. Log lines say which worker took each connection
  --redis <url>                carry topics to other servers through Redis (redis://host:port);
                               needs the redis package (npm install redis)
  --quiet                      do not log connections
  -h, --help                   print this help
`;

/** The topic every connection of `--broadcast` joins (Redis channel `rfcws:broadcast`). */
export const BROADCAST_TOPIC = 'broadcast';

function peer(ws: WebSocket | UpgradeRequest): string {
  return `${ws.remoteAddress ?? '?'}:${ws.remotePort ?? '?'}`;
}

/** Runs the server until SIGINT/SIGTERM; resolves once it listens. */
export async function serve(argv: string[]): Promise<void> {
  const { values } = parse(
    'serve',
    () =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          port: { type: 'string' },
          host: { type: 'string' },
          path: { type: 'string', multiple: true },
          'tls-cert': { type: 'string' },
          'tls-key': { type: 'string' },
          h2c: { type: 'boolean' },
          subprotocol: { type: 'string', short: 's', multiple: true },
          origin: { type: 'string', multiple: true },
          broadcast: { type: 'boolean' },
          'max-payload': { type: 'string' },
          keepalive: { type: 'string' },
          'no-deflate': { type: 'boolean' },
          workers: { type: 'string' },
          redis: { type: 'string' },
          quiet: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }),
    0,
  );
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return;
  }
  const port = intOption('serve', '--port', values.port, 8080, 0, 65535);
  const keepAliveSeconds = intOption('serve', '--keepalive', values.keepalive, 30);
  const maxPayload = values['max-payload'] === undefined ? undefined : intOption('serve', '--max-payload', values['max-payload'], 0, 1);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new UsageError('serve', '--tls-cert and --tls-key go together');
  }
  const tls =
    values['tls-cert'] === undefined
      ? undefined
      : { cert: readFileFor('--tls-cert', values['tls-cert']), key: readFileFor('--tls-key', values['tls-key']!) };
  if (values.h2c && tls !== undefined) {
    throw new UsageError('serve', '--h2c is for cleartext; with --tls-cert HTTP/2 is served already (ALPN h2)');
  }
  const broadcast = values.broadcast === true;
  const workers = values.workers === undefined ? 0 : intOption('serve', '--workers', values.workers, 0, 1, 1024);
  const redisUrl = values.redis === undefined ? undefined : redisUrlOption(values.redis);
  const role = workerRole();
  const stamp = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  const log = values.quiet ? () => {} : role === null ? stamp : (line: string) => stamp(`worker ${role.id} ${line}`);
  const announce = (address: Pick<AddressInfo, 'address' | 'family' | 'port'>, suffix = ''): void => {
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `${tls ? 'wss' : 'ws'}://${host}:${address.port}${values.path?.[0] ?? '/'}`;
    const hints = [
      tls ? ` --ca ${values['tls-cert']}` : '',
      values.origin?.[0] === undefined ? '' : ` -o ${values.origin[0]}`,
      values.subprotocol?.[0] === undefined ? '' : ` -s ${values.subprotocol[0]}`,
    ].join('');
    const versions = tls !== undefined || values.h2c ? 'HTTP/2 and HTTP/1.1' : 'HTTP/1.1';
    console.log(`${broadcast ? 'Broadcast' : 'Echo'} server listening on ${url} (${versions})${suffix}`);
    console.log(`Try it: node dist/lib/cli.js connect ${url}${hints}   (or: npx rfcws connect ${url}${hints})`);
  };
  if (workers > 0 && role === null) {
    const host = values.host ?? '127.0.0.1';
    return runWorkers({
      workers,
      port,
      log: stamp,
      listening: (p, mode) => announce({ address: host, family: host.includes(':') ? 'IPv6' : 'IPv4', port: p }, ` with ${workers} workers (${mode})`),
    });
  }

  let broker: Broker | undefined;
  let closeBroker = async (): Promise<void> => {};
  if (redisUrl !== undefined) {
    const redis = await connectRedis(redisUrl, log);
    ({ broker } = redis);
    closeBroker = redis.close;
    log(`topics go through Redis at ${redisUrl} (channels ${redis.broker.prefix}<topic>)`);
  } else if (role !== null) {
    const cluster = new ClusterBroker();
    broker = cluster;
    closeBroker = () => cluster.close();
  }

  const failures = new BrokerFailureLog(log);
  const server = new WebSocketServer({
    broker: broker === undefined ? undefined : loggedBroker(broker, log, failures),
    reusePort: role?.mode === 'reusePort',
    port: role?.port ?? port,
    host: values.host ?? '127.0.0.1',
    path: values.path,
    tls,
    http2: tls !== undefined || values.h2c === true,
    protocols: values.subprotocol,
    allowedOrigins: values.origin,
    maxPayload,
    keepAliveInterval: keepAliveSeconds * 1000,
    keepAliveTimeout: keepAliveSeconds * 1000,
    perMessageDeflate: !values['no-deflate'],
  });
  server.on('connection', (ws, req) => {
    const who = peer(ws);
    const details = [
      `path=${req.url}`,
      req.origin === undefined ? '' : `origin=${req.origin}`,
      ws.protocol ? `protocol=${ws.protocol}` : '',
      ws.extensions ? `extensions="${ws.extensions}"` : '',
      `http=${ws.httpVersion}`,
    ].filter(Boolean);
    log(`open  ${who} ${details.join(' ')}`);
    // A topic, not a loop over server.clients: through the broker it reaches the clients of
    // the other workers (--workers) and servers (--redis) too, each exactly once.
    if (broadcast) ws.subscribe(BROADCAST_TOPIC);
    ws.on('message', (data, isBinary) => {
      if (!broadcast) return void ws.send(data, { binary: isBinary });
      server.publish(BROADCAST_TOPIC, data, { binary: isBinary });
    });
    ws.on('error', (err) => log(`error ${who} ${(err as { code?: string }).code ?? ''} ${err.message}`));
    ws.on('close', (code, reason, wasClean) => {
      log(`close ${who} code=${code}${reason ? ` reason="${reason}"` : ''} clean=${wasClean}`);
    });
  });
  server.on('rejected', (status, req, reason) => {
    const where = req === undefined ? '' : ` ${peer(req)} path=${req.url}${req.origin === undefined ? '' : ` origin=${req.origin}`}`;
    log(`refused ${status}${where}: ${reason.message}`);
  });
  server.on('error', (err) => log(`server error: ${err.message}`));
  server.on('brokerError', (err) => failures.failure(err));

  const address = await server.listen();
  if (role === null) announce(address);
  else reportListening(address.port);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    if (role === null) console.log('Shutting down: closing every connection with 1001 Going Away');
    server
      .close()
      .then(closeBroker)
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
