// inferlog never changes a response: every way Node lets an app send its head (setHeader, appendHeader,
// writeHead with an object, a flat raw array or an array of pairs, 1xx messages, trailers, HEAD, 204/304)
// gives the same bytes on the wire with and without the middleware, apart from the documented
// X-Request-Id echo line, which is added only when the app did not set that header itself.
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import { inferenceLog as expressLog } from '@inferlog/express';
import { inferenceLog as koaLog } from '@inferlog/koa';
import type { LoggerControls } from '@inferlog/core';
import { dropSchema, endPool, logOptions, settle, storedRows, uniqueSchema } from './helpers';
import { comparable, parseRaw, rawExchange } from './raw-http';

const schema = uniqueSchema('heads');
const logs: LoggerControls[] = [];
const json = '{"outputs":[]}';
/** A headers object an app keeps and passes to every writeHead: inferlog must never add to it. */
const SHARED_HEADERS = Object.freeze({ 'content-type': 'application/json', 'x-shared': '1' });
const SHARED_PAIRS = Object.freeze([Object.freeze(['content-type', 'text/plain'])]);

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  await dropSchema(schema);
  await endPool();
});

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** One way of answering: with the bare Node response (both frameworks), or the framework's own API. */
interface Case {
  name: string;
  node?: NodeHandler;
  express?: (req: express.Request, res: express.Response) => void;
  koa?: (ctx: Koa.Context) => void;
  method?: string;
  /** Extra request header lines. */
  request?: string[];
  /** The request line's HTTP version (default 1.1). */
  version?: string;
  /** The status of the final response. */
  status: number;
  /** The app sets X-Request-Id itself: the response must be byte-identical, with no echo added. */
  appSetsId?: boolean;
}

/** Runs `fn`, and on a throw ends the response with the error's code (what an app's error handling would do). */
const attempt = (res: ServerResponse, fn: () => void) => {
  try {
    fn();
  } catch (err) {
    if (!res.headersSent) res.statusCode = 500;
    res.end(`threw ${(err as { code?: string }).code}`);
  }
};

const CASES: Case[] = [
  {
    name: 'setHeader (string, number, array) then end',
    status: 200,
    node: (_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Count', 3);
      res.setHeader('x-multi', ['a', 'b']);
      res.end(json);
    },
  },
  {
    name: 'appendHeader twice',
    status: 200,
    node: (_req, res) => {
      res.appendHeader('x-a', '1');
      res.appendHeader('x-a', ['2', '3']);
      res.end(json);
    },
  },
  {
    name: 'setHeaders with a Map',
    status: 200,
    node: (_req, res) => {
      res.setHeaders(
        new Map([
          ['x-m', '1'],
          ['content-type', 'text/plain'],
        ]),
      );
      res.end('ok');
    },
  },
  {
    name: 'statusCode and statusMessage, implicit head',
    status: 201,
    node: (_req, res) => {
      res.statusCode = 201;
      res.statusMessage = 'Made';
      res.end(json);
    },
  },
  { name: 'end() with no body', status: 200, node: (_req, res) => res.end() },
  { name: 'writeHead(status) with no headers', status: 200, node: (_req, res) => res.writeHead(200).end(json) },
  { name: 'writeHead(status, reason)', status: 202, node: (_req, res) => res.writeHead(202, 'Fine By Me').end(json) },
  {
    name: 'writeHead(status, undefined, headers)',
    status: 200,
    node: (_req, res) => res.writeHead(200, undefined, { 'x-u': '1' }).end(json),
  },
  {
    name: 'writeHead with an object (mixed case, numbers, arrays)',
    status: 200,
    node: (_req, res) =>
      res
        .writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json), 'X-Multi': ['a', 'b'] })
        .end(json),
  },
  {
    name: 'writeHead(status, reason, object)',
    status: 200,
    node: (_req, res) => res.writeHead(200, 'Quite OK', { 'content-type': 'application/json' }).end(json),
  },
  {
    name: 'writeHead with a flat raw array holding a duplicate',
    status: 200,
    node: (_req, res) => res.writeHead(200, ['x-a', '1', 'x-a', '2', 'Content-Type', 'application/json']).end(json),
  },
  {
    name: 'writeHead with an array of pairs',
    status: 200,
    node: (_req, res) =>
      res
        .writeHead(200, [
          ['content-type', 'application/json'],
          ['x-a', '1'],
          ['x-a', '2'],
        ] as unknown as string[])
        .end(json),
  },
  { name: 'writeHead with an empty array', status: 200, node: (_req, res) => res.writeHead(200, []).end(json) },
  { name: 'writeHead with an empty object', status: 200, node: (_req, res) => res.writeHead(200, {}).end(json) },
  {
    name: 'writeHead with an odd-length flat array (Node refuses it)',
    status: 500,
    node: (_req, res) => attempt(res, () => res.writeHead(200, ['x-a', '1', 'x-b']).end(json)),
  },
  {
    name: 'setHeader, then writeHead with an object (merged)',
    status: 200,
    node: (_req, res) => {
      res.setHeader('x-first', '1');
      res.setHeader('content-type', 'text/plain');
      res.writeHead(200, { 'Content-Type': 'application/json', 'x-second': '2' }).end(json);
    },
  },
  {
    name: 'setHeader, then writeHead with a flat array holding a duplicate',
    status: 200,
    node: (_req, res) => {
      res.setHeader('x-first', '1');
      res.writeHead(200, ['x-a', '1', 'x-a', '2']).end(json);
    },
  },
  {
    name: 'setHeader, then writeHead with an array of pairs (Node refuses it)',
    status: 500,
    node: (_req, res) => {
      res.setHeader('x-first', '1');
      attempt(res, () => res.writeHead(200, [['x-a', '1']] as unknown as string[]).end(json));
    },
  },
  {
    name: 'setHeader and removeHeader, then writeHead with a flat array holding a duplicate',
    status: 200,
    node: (_req, res) => {
      res.setHeader('x-gone', '1');
      res.removeHeader('x-gone');
      res.writeHead(200, ['x-a', '1', 'x-a', '2']).end(json);
    },
  },
  {
    name: 'writeHead twice (the second throws)',
    status: 200,
    node: (_req, res) => {
      res.writeHead(200, [['content-type', 'text/plain']] as unknown as string[]);
      attempt(res, () => res.writeHead(500, { 'x-late': '1' }));
    },
  },
  {
    name: 'writeHead with a bad status (throws), then with pairs',
    status: 200,
    node: (_req, res) => {
      try {
        res.writeHead(1000);
      } catch {
        res.writeHead(200, [['content-type', 'text/plain']] as unknown as string[]).end('second try');
      }
    },
  },
  {
    name: 'writeHead with a header value Node refuses (throws)',
    status: 500,
    node: (_req, res) => attempt(res, () => res.writeHead(200, { 'x-bad': 'a\nb' }).end(json)),
  },
  {
    name: 'flushHeaders, then write and end',
    status: 200,
    node: (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.flushHeaders();
      res.write('a');
      res.end('b');
    },
  },
  {
    name: 'writeHead with pairs, then flushHeaders',
    status: 200,
    node: (_req, res) => {
      res.writeHead(200, [['content-type', 'text/plain']] as unknown as string[]);
      res.flushHeaders();
      res.end('x');
    },
  },
  {
    name: 'writeContinue, then pairs',
    status: 200,
    node: (_req, res) => {
      res.writeContinue();
      res.writeHead(200, [['content-type', 'text/plain']] as unknown as string[]).end('after 100');
    },
  },
  {
    name: 'Expect: 100-continue answered by Node, then a flat array',
    status: 200,
    request: ['Expect: 100-continue'],
    node: (_req, res) => res.writeHead(200, ['content-type', 'text/plain', 'x-a', '1', 'x-a', '2']).end('continued'),
  },
  {
    name: 'writeProcessing, then an object',
    status: 200,
    node: (_req, res) => {
      res.writeProcessing();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('after 102');
    },
  },
  {
    name: 'writeEarlyHints, then pairs',
    status: 200,
    node: (_req, res) => {
      res.writeEarlyHints({ link: ['</a.css>; rel=preload; as=style', '</b.js>; rel=preload; as=script'], 'x-hint': '1' });
      res.writeHead(200, [['content-type', 'text/html']] as unknown as string[]).end('<p>hi</p>');
    },
  },
  {
    name: 'chunked body with trailers (addTrailers)',
    status: 200,
    node: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('part one, ');
      res.write('part two');
      res.addTrailers({ 'x-checksum': 'abc123' });
      res.end();
    },
  },
  {
    name: 'explicit Transfer-Encoding: chunked in pairs, trailers as pairs',
    status: 200,
    node: (_req, res) => {
      res.writeHead(200, [
        ['transfer-encoding', 'chunked'],
        ['trailer', 'x-t'],
      ] as unknown as string[]);
      res.write('x');
      res.addTrailers([['x-t', '1']]);
      res.end('y');
    },
  },
  {
    name: 'HEAD: writeHead with pairs and Content-Length, body dropped by Node',
    method: 'HEAD',
    status: 200,
    node: (_req, res) =>
      res
        .writeHead(200, [
          ['content-type', 'application/json'],
          ['content-length', '14'],
        ] as unknown as string[])
        .end(json),
  },
  {
    name: 'HEAD: implicit head',
    method: 'HEAD',
    status: 200,
    node: (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end('body Node drops');
    },
  },
  { name: '204 with a flat array', status: 204, node: (_req, res) => res.writeHead(204, ['x-a', '1', 'x-a', '2']).end() },
  { name: '204 with a body Node drops', status: 204, node: (_req, res) => res.writeHead(204).end('dropped') },
  {
    name: '304 with pairs',
    status: 304,
    node: (_req, res) =>
      res
        .writeHead(304, [
          ['etag', '"v1"'],
          ['cache-control', 'max-age=60'],
        ] as unknown as string[])
        .end(),
  },
  {
    name: 'writeHead with a frozen headers object the app reuses',
    status: 200,
    node: (_req, res) => res.writeHead(200, SHARED_HEADERS as never).end(json),
  },
  {
    name: 'writeHead with frozen pairs the app reuses',
    status: 200,
    node: (_req, res) => res.writeHead(200, SHARED_PAIRS as never).end('x'),
  },
  {
    name: 'writeHead naming X-Request-Id with an undefined value (Node refuses it)',
    status: 500,
    node: (_req, res) => attempt(res, () => res.writeHead(200, { 'X-Request-Id': undefined } as never).end(json)),
  },
  {
    name: 'HTTP/1.0 request, flat array, body written in parts',
    version: '1.0',
    status: 200,
    node: (_req, res) => {
      res.writeHead(200, ['content-type', 'text/plain', 'x-a', '1', 'x-a', '2']);
      res.write('one ');
      res.end('two');
    },
  },
  {
    name: 'write before any head (implicit head, chunked)',
    status: 200,
    node: (_req, res) => {
      res.write('a');
      res.end('b');
    },
  },
  {
    name: 'the app sets X-Request-Id with setHeader',
    status: 200,
    appSetsId: true,
    node: (_req, res) => {
      res.setHeader('X-Request-Id', 'app-own');
      res.end(json);
    },
  },
  {
    name: 'the app sets X-Request-Id in a writeHead object',
    status: 200,
    appSetsId: true,
    node: (_req, res) => res.writeHead(200, { 'X-REQUEST-ID': 'app-own' }).end(json),
  },
  {
    name: 'the app sets X-Request-Id twice in a flat array',
    status: 200,
    appSetsId: true,
    node: (_req, res) => res.writeHead(200, ['x-request-id', 'one', 'X-Request-ID', 'two']).end(json),
  },
  {
    name: 'the app sets X-Request-Id in pairs',
    status: 200,
    appSetsId: true,
    node: (_req, res) => res.writeHead(200, [['X-Request-Id', 'app-own']] as unknown as string[]).end(json),
  },
  {
    name: 'Express: res.json with res.set, res.append and cookies',
    status: 200,
    express: (_req, res) => {
      res.set('x-multi', ['a', 'b']);
      res.append('x-a', '1');
      res.append('x-a', '2');
      res.cookie('c', 'v');
      res.json({ outputs: [] });
    },
  },
  { name: 'Express: res.sendStatus(204)', status: 204, express: (_req, res) => res.sendStatus(204) },
  { name: 'Express: res.status(304).end()', status: 304, express: (_req, res) => res.status(304).end() },
  {
    name: 'Express: a HEAD request answered by res.send',
    method: 'HEAD',
    status: 200,
    express: (_req, res) => res.type('text').send('dropped'),
  },
  {
    name: 'Koa: ctx.body with ctx.set arrays and ctx.append',
    status: 200,
    koa: (ctx) => {
      ctx.set('x-multi', ['a', 'b']);
      ctx.append('x-a', '1');
      ctx.append('x-a', '2');
      ctx.body = { outputs: [] };
    },
  },
  {
    name: 'Koa: ctx.status = 204',
    status: 204,
    koa: (ctx) => {
      ctx.status = 204;
    },
  },
  {
    name: 'Koa: a HEAD request with a body',
    method: 'HEAD',
    status: 200,
    koa: (ctx) => {
      ctx.body = 'dropped by Koa';
    },
  },
];

type Framework = 'express' | 'koa';

function serve(framework: Framework, c: Case, log: LoggerControls | null): Server {
  if (framework === 'express') {
    const app = express();
    app.disable('x-powered-by');
    if (log) app.use(log as unknown as express.RequestHandler);
    app.all('/h/*rest', (req, res) => (c.express ? c.express(req, res) : c.node!(req, res)));
    return app.listen(0);
  }
  const app = new Koa();
  app.silent = true;
  if (log) app.use(log as unknown as Koa.Middleware);
  app.use((ctx) => {
    if (c.koa) return c.koa(ctx);
    // The bare Node response, as an app that streams or writes raw headers uses it.
    ctx.respond = false;
    ctx.res.statusCode = 200; // Koa starts every response at 404
    c.node!(ctx.req, ctx.res);
  });
  return app.listen(0);
}

async function exchange(server: Server, c: Case, id: string): Promise<Buffer> {
  const { port } = server.address() as AddressInfo;
  const head = [`${c.method ?? 'POST'} /h/${id} HTTP/${c.version ?? '1.1'}`, 'Host: x', `X-Request-Id: ${id}`, ...(c.request ?? [])].join(
    '\r\n',
  );
  try {
    return await rawExchange(port, head, c.method === 'HEAD' ? '' : '{"inputs":[]}');
  } finally {
    server.close();
  }
}

const casesFor = (framework: Framework) => CASES.filter((c) => c.node || c[framework]);

describe.each<Framework>(['express', 'koa'])('%s', (framework) => {
  let log: LoggerControls;
  let quiet: LoggerControls;
  beforeAll(async () => {
    const options = logOptions(schema, { table: `heads_${framework}`, routes: [{ path: '/h/*rest', protocol: 'raw' }] });
    const noEcho = { ...options, table: `quiet_${framework}`, requestIdHeader: false as const };
    quiet = framework === 'express' ? expressLog(noEcho) : koaLog(noEcho);
    logs.push(quiet);
    await quiet.ready();
    log = framework === 'express' ? expressLog(options) : koaLog(options);
    logs.push(log);
    await log.ready();
  });

  test.each(casesFor(framework).map((c) => [c.name, c] as const))('%s: the same bytes with and without inferlog', async (_name, c) => {
    const id = `${framework}-${CASES.indexOf(c)}`;
    const bare = await exchange(serve(framework, c, null), c, id);
    const logged = await exchange(serve(framework, c, log), c, id);
    const response = parseRaw(logged);
    expect(response.status).toBe(c.status);
    const echoes = response.headers.filter((line) => line.toLowerCase().startsWith('x-request-id:'));
    if (c.appSetsId) {
      expect(comparable(logged)).toBe(comparable(bare));
    } else {
      expect(comparable(logged, ['x-request-id'])).toBe(comparable(bare, ['x-request-id']));
      expect(echoes).toEqual([`x-request-id: ${id}`]);
      // 1xx messages carry no echo.
      expect(
        response.heads
          .slice(0, -1)
          .flat()
          .filter((line) => /^x-request-id:/i.test(line)),
      ).toEqual([]);
    }
  });

  test.each(casesFor(framework).map((c) => [c.name, c] as const))(
    '%s: with requestIdHeader false, the very same bytes',
    async (_name, c) => {
      const id = `${framework}-${CASES.indexOf(c)}`;
      const bare = await exchange(serve(framework, c, null), c, id);
      const logged = await exchange(serve(framework, c, quiet), c, id);
      expect(comparable(logged)).toBe(comparable(bare));
    },
  );

  test('the headers objects an app reuses are left as they were', () => {
    expect(SHARED_HEADERS).toEqual({ 'content-type': 'application/json', 'x-shared': '1' });
    expect(SHARED_PAIRS).toEqual([['content-type', 'text/plain']]);
  });

  test('each exchange has its row, with the status sent and the headers sent with writeHead', async () => {
    const cases = casesFor(framework);
    await settle(log, cases.length);
    const rows = await storedRows(schema, `heads_${framework}`);
    const byPath = new Map(rows.map((row) => [row.path as string, row]));
    expect(rows).toHaveLength(cases.length);
    for (const c of cases) {
      const row = byPath.get(`/h/${framework}-${CASES.indexOf(c)}`);
      expect({ name: c.name, status: row?.status, aborted: row?.aborted }).toEqual({ name: c.name, status: c.status, aborted: false });
    }
    const object = byPath.get(`/h/${framework}-${CASES.findIndex((c) => c.name.startsWith('writeHead with an object'))}`);
    expect(object?.response_headers).toMatchObject({
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(json)),
    });
    const pairs = byPath.get(`/h/${framework}-${CASES.findIndex((c) => c.name === 'writeHead with an array of pairs')}`);
    expect(pairs?.response_headers).toMatchObject({ 'content-type': 'application/json' });
    expect(pairs?.response_body).toBe(json);
  });
});
