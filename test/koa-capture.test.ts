import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import request from 'supertest';
import { inferenceLog, annotate, type InferenceLogMiddleware } from '@inferlog/koa';
import { dropSchema, endPool, logOptions, oipRequest, storedRow, uniqueSchema } from './helpers';

const schema = uniqueSchema('koa');
const logs: InferenceLogMiddleware[] = [];
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const oipResponse = {
  model_name: 'm',
  model_version: '3',
  id: 'r1',
  outputs: [{ name: 'p', shape: [1, 1], datatype: 'FP32', data: [0.25] }],
};

function newLog(extra = {}): InferenceLogMiddleware {
  const log = inferenceLog(
    logOptions(schema, { routes: [{ path: '/v2/models/:model/infer', protocol: 'oip-v2' }, '/raw/*rest', /^\/regex\//], ...extra }),
  );
  logs.push(log);
  return log;
}

const rowFor = (log: InferenceLogMiddleware, requestId: string, expectedCaptured = 1) =>
  storedRow(log, schema, requestId, expectedCaptured);

beforeAll(async () => {
  await newLog().ready();
});

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  await dropSchema(schema);
  await endPool();
});

describe('Koa: request bodies', () => {
  test('before @koa/bodyparser: raw bytes seen, OIP fields mapped', async () => {
    const log = newLog();
    const app = new Koa();
    app.use(log);
    app.use(bodyParser());
    const router = new Router();
    router.post('/v2/models/:model/infer', (ctx) => {
      ctx.body = { ...oipResponse, id: (ctx.request.body as { id: string }).id };
    });
    app.use(router.routes());
    const body = JSON.stringify(oipRequest([1, 2, 3, 4], 'k-1'));
    const res = await request(app.callback())
      .post('/v2/models/m/infer')
      .set('content-type', 'application/json')
      .set('x-request-id', 'koa-before')
      .send(body);
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('koa-before');
    const row = await rowFor(log, 'koa-before');
    expect(row).toMatchObject({
      status: 200,
      protocol: 'oip-v2',
      model_name: 'm',
      model_version: '3',
      inference_id: 'k-1',
      route: '/v2/models/:model/infer',
    });
    expect(row.inputs[0].data).toEqual([1, 2, 3, 4]);
    expect(row.outputs).toEqual(oipResponse.outputs);
    expect(row.request_sha256).toBe(sha256(body));
  });

  test('after @koa/bodyparser: the raw body the parser kept is used', async () => {
    const log = newLog();
    const app = new Koa();
    app.use(bodyParser());
    app.use(log);
    app.use((ctx) => {
      ctx.body = oipResponse;
    });
    const body = JSON.stringify(oipRequest([4, 3, 2, 1]));
    await request(app.callback())
      .post('/v2/models/m/infer')
      .set('content-type', 'application/json')
      .set('x-request-id', 'koa-after')
      .send(body)
      .expect(200);
    const row = await rowFor(log, 'koa-after');
    expect(row.inputs[0].data).toEqual([4, 3, 2, 1]);
  });

  test('an over-size body is cut and noted while size and digest cover it all', async () => {
    const log = newLog({ maxBodyBytes: 100 });
    const app = new Koa();
    app.use(log);
    app.use(bodyParser({ enableTypes: ['text'] }));
    app.use((ctx) => {
      ctx.body = `len ${(ctx.request.body as string).length}`;
    });
    const body = 'z'.repeat(5000);
    await request(app.callback())
      .post('/raw/x')
      .set('content-type', 'text/plain')
      .set('x-request-id', 'koa-big')
      .send(body)
      .expect(200, 'len 5000');
    const row = await rowFor(log, 'koa-big');
    expect(row.truncated).toEqual(['request_body']);
    expect(row.request_body).toBe('z'.repeat(100));
    expect(Number(row.request_bytes)).toBe(5000);
    expect(row.request_sha256).toBe(sha256(body));
  });
});

describe('Koa: response bodies', () => {
  test('a stream body is stored whole', async () => {
    const log = newLog();
    const app = new Koa();
    app.use(log);
    app.use((ctx) => {
      ctx.type = 'text/plain';
      ctx.body = Readable.from(['one ', 'two ', 'three']);
    });
    await request(app.callback()).get('/raw/stream').set('x-request-id', 'koa-stream').expect(200, 'one two three');
    expect((await rowFor(log, 'koa-stream')).response_body).toBe('one two three');
  });

  test('Server-Sent Events through ctx.res are stored whole', async () => {
    const log = newLog();
    const app = new Koa();
    app.use(log);
    app.use(async (ctx) => {
      ctx.respond = false;
      ctx.res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const n of [1, 2, 3]) {
        ctx.res.write(`event: tick\ndata: ${n}\n\n`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      ctx.res.end();
    });
    await request(app.callback()).get('/raw/sse').set('x-request-id', 'koa-sse').buffer(true).expect(200);
    expect((await rowFor(log, 'koa-sse')).response_body).toBe('event: tick\ndata: 1\n\nevent: tick\ndata: 2\n\nevent: tick\ndata: 3\n\n');
  });

  test('a gzip response is stored decoded', async () => {
    const log = newLog();
    const app = new Koa();
    app.use(log);
    app.use((ctx) => {
      ctx.set('content-encoding', 'gzip');
      ctx.type = 'application/json';
      ctx.body = zlib.gzipSync(JSON.stringify(oipResponse));
    });
    await request(app.callback())
      .post('/v2/models/m/infer')
      .set('x-request-id', 'koa-gzip')
      .send(oipRequest([1, 2, 3, 4]))
      .expect(200);
    expect((await rowFor(log, 'koa-gzip')).outputs).toEqual(oipResponse.outputs);
  });
});

describe('Koa: outcomes', () => {
  test("an error thrown to Koa is recorded with Koa's own error response and the exception", async () => {
    const log = newLog();
    const app = new Koa();
    app.silent = true;
    app.use(log);
    app.use(() => {
      throw Object.assign(new Error('weights missing'), { status: 503, expose: true });
    });
    const res = await request(app.callback())
      .post('/v2/models/m/infer')
      .set('x-request-id', 'koa-error')
      .send(oipRequest([1, 2, 3, 4]));
    expect(res.status).toBe(503);
    expect(res.text).toBe('weights missing');
    const row = await rowFor(log, 'koa-error');
    expect(row.status).toBe(503);
    expect(row.error).toMatchObject({
      status: 503,
      message: 'weights missing',
      exception: { name: 'Error', message: 'weights missing', status: 503 },
    });
  });

  test('an uncaught 500 writes Koa\'s "Internal Server Error" and is recorded', async () => {
    const log = newLog();
    const app = new Koa();
    app.silent = true;
    app.use(log);
    app.use(() => {
      throw new Error('secret internal detail');
    });
    await request(app.callback()).get('/raw/boom').set('x-request-id', 'koa-500').expect(500, 'Internal Server Error');
    const row = await rowFor(log, 'koa-500');
    expect(row.response_body).toBe('Internal Server Error');
    expect(row.error.exception).toEqual({ name: 'Error', message: 'secret internal detail' });
  });

  test('an aborted request is recorded as aborted', async () => {
    const log = newLog();
    const app = new Koa();
    app.use(log);
    app.use(async (ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      ctx.body = 'late';
    });
    const server = app.listen(0);
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => {
      const req = http.get({ port, path: '/raw/slow', headers: { 'x-request-id': 'koa-aborted' } });
      req.on('error', () => resolve());
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    const row = await rowFor(log, 'koa-aborted');
    server.close();
    expect(row.aborted).toBe(true);
  });

  test('a RegExp route stores the route @koa/router matched; annotations are stored', async () => {
    const log = newLog();
    const app = new Koa();
    app.use(log);
    const router = new Router();
    router.get('/regex/:thing', (ctx) => {
      annotate(ctx, { tenant: 'koa-tenant' });
      ctx.body = 'ok';
    });
    app.use(router.routes());
    await request(app.callback()).get('/regex/abc').set('x-request-id', 'koa-regex').expect(200);
    const row = await rowFor(log, 'koa-regex');
    expect(row.route).toBe('/regex/:thing');
    expect(row.annotations).toEqual({ tenant: 'koa-tenant' });
  });
});
