// Typed events: the @ts-expect-error lines below are compile errors, and `npm test` builds
// with tsc first, so a regression in the event maps fails the build. The runtime part checks
// that the typed listeners receive what their signatures say.
import t from 'tap';
import { once } from 'node:events';
import { WebSocketServer, connect, type WebSocket } from '../../lib/index.js';

function typeChecks(ws: WebSocket, server: WebSocketServer): void {
  // @ts-expect-error a misspelt event name
  ws.on('mesage', () => undefined);
  // @ts-expect-error the message listener's first argument is a Buffer
  ws.on('message', (data: string) => data);
  // @ts-expect-error close carries a number code
  ws.on('close', (code: string) => code);
  // @ts-expect-error a misspelt server event
  server.on('conection', () => undefined);
  // @ts-expect-error the connection listener receives a WebSocket
  server.on('connection', (ws: string) => ws);
  ws.on('message', (data: Buffer, isBinary: boolean) => [data, isBinary]);
  server.on('rejected', (status: number) => status);
}

t.test('typed listeners get the documented arguments', async (t) => {
  t.type(typeChecks, 'function');
  const server = new WebSocketServer({ host: '127.0.0.1' });
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const { port } = await server.listen();
  t.teardown(() => server.close());
  const ws = await connect(`ws://127.0.0.1:${port}/`);
  ws.send('typed');
  const [data, isBinary] = await once(ws, 'message');
  t.ok(Buffer.isBuffer(data));
  t.equal(isBinary, false);
  ws.close(1000);
  const [code, reason, wasClean] = await once(ws, 'close');
  t.same([code, reason, wasClean], [1000, '', true]);
});
