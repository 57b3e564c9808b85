// A connection that closes before the response went out: `aborted` is true, and `status` is null when
// none of the response reached the connection, whatever the app wrote after it closed. The case the
// benchmarks met: a 4 MiB upload cut mid-body (the server closing its connections, as at shutdown) makes
// Express's body parser answer 400 "request aborted" synchronously, into a socket already destroyed;
// Node drops the bytes yet reports the response finished (writableFinished).
import { once } from 'node:events';
import type { Server } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { inferenceLog as expressLog } from '@inferlog/express';
import { inferenceLog as koaLog } from '@inferlog/koa';
import type { LoggerControls } from '@inferlog/core';
import { dropSchema, endPool, logOptions, settle, storedRows, uniqueSchema, until } from './helpers';

const schema = uniqueSchema('aborted');
const logs: LoggerControls[] = [];
const MiB = 1024 * 1024;

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  await dropSchema(schema);
  await endPool();
});

type Framework = 'express' | 'koa';
/** How the model route answers. */
type Handler = 'json-parser' | 'answers-abort' | 'streams';

function serve(framework: Framework, log: LoggerControls, handler: Handler): Server {
  if (framework === 'express') {
    const app = express();
    app.use(log as unknown as express.RequestHandler);
    if (handler === 'json-parser') {
      app.use(express.json({ limit: '10mb' }));
      app.post('/v2/models/:model/infer', (_req, res) => res.json({ outputs: [] }));
    } else if (handler === 'answers-abort') {
      // The app answers the moment the request is aborted (synchronously, inside Node's 'close').
      app.post('/v2/models/:model/infer', (req, res) => req.on('aborted', () => res.status(499).end('client closed request')));
    } else {
      app.post('/v2/models/:model/infer', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
      });
    }
    return app.listen(0);
  }
  const app = new Koa();
  app.silent = true;
  app.use(log as unknown as Koa.Middleware);
  if (handler === 'json-parser') {
    app.use(bodyParser({ jsonLimit: '10mb' }));
    app.use((ctx) => {
      ctx.body = { outputs: [] };
    });
  } else if (handler === 'answers-abort') {
    app.use((ctx) => {
      ctx.respond = false;
      ctx.req.on('aborted', () => {
        ctx.res.statusCode = 499;
        ctx.res.end('client closed request');
      });
    });
  } else {
    app.use((ctx) => {
      ctx.respond = false;
      ctx.res.writeHead(200, { 'content-type': 'text/event-stream' });
      ctx.res.write('data: first\n\n');
    });
  }
  return app.listen(0);
}

/** Who closes the connection: the client (a raw socket destroyed), or the server (as at shutdown). */
type Closer = 'client' | 'server';

/**
 * Starts a request announcing `announced` bytes, sends `sent` of them, waits until the server has the
 * request (and, for streams, the first event is out), then closes the connection; resolves with what the
 * client got.
 */
async function cut(server: Server, closer: Closer, id: string, announced: number, sent: number, waitFor: () => boolean): Promise<string> {
  const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  let got = '';
  socket.on('data', (chunk) => (got += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = once(socket, 'close');
  socket.write(
    `POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${id}\r\nContent-Type: application/json\r\nContent-Length: ${announced}\r\n\r\n`,
  );
  socket.write(Buffer.alloc(sent, 0x20));
  await until(waitFor, `the server to hold request ${id}`, 10_000);
  if (closer === 'client') socket.destroy();
  else server.closeAllConnections();
  await closed;
  server.close();
  return got;
}

const CASES: [Framework, Closer, Handler][] = [];
for (const framework of ['express', 'koa'] as const)
  for (const closer of ['server', 'client'] as const)
    for (const handler of ['json-parser', 'answers-abort'] as const) CASES.push([framework, closer, handler]);

describe.each(CASES)('%s, the %s closes the connection mid-body, the app uses %s', (framework, closer, handler) => {
  test('nothing reached the client: aborted, no status, the body cut', async () => {
    const table = `a_${framework}_${closer}_${handler.replace('-', '_')}`;
    const log = (framework === 'express' ? expressLog : koaLog)(logOptions(schema, { table, maxBodyBytes: 64 * 1024 }));
    logs.push(log);
    await log.ready();
    const server = serve(framework, log, handler);
    // Bytes the server's socket has read: watching the request itself would change how it is read.
    let connection: net.Socket | undefined;
    server.on('connection', (socket: net.Socket) => (connection = socket));
    // An app that never reads the body holds it back (backpressure): it is sent a little of it.
    const sent = handler === 'json-parser' ? MiB : 8 * 1024;
    const got = await cut(server, closer, 'cut', 4 * MiB, sent, () => (connection?.bytesRead ?? 0) >= sent);
    expect(got).toBe('');
    await settle(log, 1);
    const [row] = await storedRows(schema, table);
    expect({ aborted: row.aborted, status: row.status, truncated: row.truncated }).toEqual({
      aborted: true,
      status: null,
      truncated: ['request_body'],
    });
    // The tee counts what was read: all that arrived for the parser, nothing for an app that read none.
    expect(Number(row.request_bytes)).toBe(handler === 'json-parser' ? MiB : 0);
  });
});

describe.each(['express', 'koa'] as const)('%s, a stream the client leaves', (framework) => {
  test('the head went out: aborted with the status sent', async () => {
    const table = `s_${framework}`;
    const log = (framework === 'express' ? expressLog : koaLog)(logOptions(schema, { table }));
    logs.push(log);
    await log.ready();
    const server = serve(framework, log, 'streams');
    let got = '';
    const body = '{}';
    const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    socket.on('data', (chunk) => (got += chunk.toString('latin1')));
    socket.write(`POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nX-Request-Id: s\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await until(() => got.includes('data: first'), 'the first event');
    socket.destroy();
    await settle(log, 1);
    server.close();
    const [row] = await storedRows(schema, table);
    expect({ aborted: row.aborted, status: row.status }).toEqual({ aborted: true, status: 200 });
  });
});
