/**
 * Autobahn testee server: echoes every message with permessage-deflate on and limits
 * generous enough for section 9. Run the suite's fuzzingclient against it.
 *   npm run conformance:server -- --port 9001 --host 127.0.0.1
 */
import { WebSocketServer } from '../lib/index.js';
import { parseArgs } from './args.js';
import { echo, TESTEE_DEFLATE, TESTEE_LIMITS } from './echo.js';

/** Starts the echo testee; resolves once it listens. */
export async function startTesteeServer(port: number, host: string): Promise<WebSocketServer> {
  const server = new WebSocketServer({ port, host, perMessageDeflate: TESTEE_DEFLATE, ...TESTEE_LIMITS });
  server.on('connection', echo);
  server.on('error', (err: Error) => console.error(`server error: ${err.message}`));
  await server.listen();
  return server;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { port: '9001', host: '127.0.0.1' });
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${args.port}`);
  const server = await startTesteeServer(port, args.host);
  const a = server.address();
  console.log(`conformance testee server on ws://${args.host}:${a?.port ?? port} (Ctrl-C to stop)`);
  const stop = () => { server.close(1000).finally(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(2);
});
