import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import express from 'express';
import request from 'supertest';
import { inferenceLog, annotate, type InferenceLogMiddleware } from '@inferlog/express';
import { dropSchema, endPool, logOptions, oipRequest, storedRow, uniqueSchema } from './helpers';

const schema = uniqueSchema('express');
const logs: InferenceLogMiddleware[] = [];
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function newLog(extra = {}): InferenceLogMiddleware {
  const log = inferenceLog(
    logOptions(schema, { routes: [{ path: '/v2/models/:model/infer', protocol: 'oip-v2' }, '/raw/*rest'], ...extra }),
  );
  logs.push(log);
  return log;
}

const oipResponse = {
  model_name: 'm',
  model_version: '3',
  id: 'r1',
  outputs: [{ name: 'p', shape: [1, 1], datatype: 'FP32', data: [0.25] }],
};

const rowFor = (log: InferenceLogMiddleware, requestId: string, expectedCaptured = 1) =>
  storedRow(log, schema, requestId, expectedCaptured);

beforeAll(async () => {
  const log = newLog();
  await log.ready();
});

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  await dropSchema(schema);
  await endPool();
});

describe('Express: request bodies', () => {
  test('before express.json: raw bytes are seen, OIP fields mapped, digest of the bytes sent', async () => {
    const log = newLog();
    const app = express();
    app.use(log);
    app.use(express.json());
    app.post('/v2/models/:model/infer', (req, res) => {
      expect(req.body.inputs[0].data).toEqual([1, 2, 3, 4]);
      res.json(oipResponse);
    });
    const body = JSON.stringify({ ...oipRequest([1, 2, 3, 4], 'req-1'), parameters: { threshold: 0.5 } });
    const res = await request(app)
      .post('/v2/models/m/infer')
      .set('content-type', 'application/json')
      .set('x-request-id', 'before-json')
      .send(body);
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('before-json');

    const row = await rowFor(log, 'before-json', 1);
    expect(row).toMatchObject({
      method: 'POST',
      route: '/v2/models/:model/infer',
      path: '/v2/models/m/infer',
      status: 200,
      aborted: false,
      protocol: 'oip-v2',
      model_name: 'm',
      model_version: '3',
      inference_id: 'r1',
      parameters: { threshold: 0.5 },
      inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
      outputs: oipResponse.outputs,
      request_body: null,
      response_body: null,
      error: null,
      truncated: [],
    });
    expect(Number(row.request_bytes)).toBe(Buffer.byteLength(body));
    expect(row.request_sha256).toBe(sha256(body));
    expect(row.response_sha256).toBe(sha256(JSON.stringify(oipResponse)));
    expect(row.latency_ms).toBeGreaterThan(0);
    expect(new Date(row.ended_at).getTime()).toBeGreaterThanOrEqual(new Date(row.started_at).getTime());
  });

  test('after express.json: the parsed body is used; size from Content-Length, no digest of unseen bytes', async () => {
    const log = newLog();
    const app = express();
    app.use(express.json());
    app.use(log);
    app.post('/v2/models/:model/infer', (_req, res) => res.json(oipResponse));
    const body = JSON.stringify(oipRequest([5, 6, 7, 8]));
    await request(app)
      .post('/v2/models/m/infer')
      .set('content-type', 'application/json')
      .set('x-request-id', 'after-json')
      .send(body)
      .expect(200);
    const row = await rowFor(log, 'after-json', 1);
    expect(row.inputs[0].data).toEqual([5, 6, 7, 8]);
    expect(Number(row.request_bytes)).toBe(Buffer.byteLength(body));
    expect(row.request_sha256).toBeNull();
  });

  test('after express.raw: the Buffer body is decoded and mapped', async () => {
    const log = newLog();
    const app = express();
    app.use(express.raw({ type: '*/*' }));
    app.use(log);
    app.post('/v2/models/:model/infer', (req, res) => {
      expect(Buffer.isBuffer(req.body)).toBe(true);
      res.json(oipResponse);
    });
    await request(app)
      .post('/v2/models/m/infer')
      .set('content-type', 'application/json')
      .set('x-request-id', 'after-raw')
      .send(JSON.stringify(oipRequest([1, 1, 1, 1])))
      .expect(200);
    const row = await rowFor(log, 'after-raw', 1);
    expect(row.inputs[0].data).toEqual([1, 1, 1, 1]);
  });

  test('the app reads the raw stream itself (for await)', async () => {
    const log = newLog();
    const app = express();
    app.use(log);
    app.post('/v2/models/:model/infer', async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const parsed = JSON.parse(Buffer.concat(chunks).toString());
      res.json({ ...oipResponse, id: parsed.id });
    });
    const body = JSON.stringify(oipRequest([9, 9, 9, 9], 'stream-id'));
    await request(app).post('/v2/models/m/infer').set('x-request-id', 'raw-stream').send(body).expect(200);
    const row = await rowFor(log, 'raw-stream', 1);
    expect(row.inputs[0].data).toEqual([9, 9, 9, 9]);
    expect(row.inference_id).toBe('stream-id');
    expect(row.request_sha256).toBe(sha256(body));
  });

  test('an over-size body is cut at maxBodyBytes, noted in truncated, while size and SHA-256 cover all of it', async () => {
    const log = newLog({ maxBodyBytes: 1024 });
    const app = express();
    app.use(log);
    app.use(express.text({ type: '*/*', limit: '1mb' }));
    app.post('/raw/upload', (req, res) => res.send(`got ${req.body.length}`));
    const body = `${'x'.repeat(10_000)}END`;
    await request(app).post('/raw/upload').set('content-type', 'text/plain').set('x-request-id', 'big').send(body).expect(200, 'got 10003');
    const row = await rowFor(log, 'big', 1);
    expect(row.truncated).toEqual(['request_body']);
    expect(row.request_body).toBe('x'.repeat(1024));
    expect(Number(row.request_bytes)).toBe(10_003);
    expect(row.request_sha256).toBe(sha256(body));
    expect(row.response_body).toBe('got 10003');
  });
});

describe('Express: response bodies', () => {
  test('many res.write calls are stored whole, callbacks fire and write() return values pass through', async () => {
    const log = newLog({ maxBodyBytes: 8 * 1024 * 1024 });
    const app = express();
    app.use(log);
    const seen: { falses: number; callbacks: number } = { falses: 0, callbacks: 0 };
    const chunk = 'y'.repeat(64 * 1024);
    app.get('/raw/chunked', async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      for (let i = 0; i < 64; i++) {
        const ok = res.write(chunk, () => seen.callbacks++);
        if (!ok) {
          seen.falses++;
          await new Promise((resolve) => res.once('drain', resolve));
        }
      }
      res.end('!', () => seen.callbacks++);
    });
    const res = await request(app).get('/raw/chunked').set('x-request-id', 'chunked').expect(200);
    expect(res.text.length).toBe(64 * 64 * 1024 + 1);
    const row = await rowFor(log, 'chunked', 1);
    expect(seen.falses).toBeGreaterThan(0);
    expect(seen.callbacks).toBe(65);
    expect(row.response_body.length).toBe(64 * 64 * 1024 + 1);
    expect(row.response_sha256).toBe(sha256(res.text));
  });

  test('a piped stream is stored whole', async () => {
    const log = newLog();
    const app = express();
    app.use(log);
    app.get('/raw/piped', (_req, res) => {
      res.type('text/plain');
      Readable.from(['alpha ', 'beta ', 'gamma']).pipe(res);
    });
    await request(app).get('/raw/piped').set('x-request-id', 'piped').expect(200, 'alpha beta gamma');
    const row = await rowFor(log, 'piped', 1);
    expect(row.response_body).toBe('alpha beta gamma');
  });

  test('Server-Sent Events written over time are stored as the whole stream', async () => {
    const log = newLog();
    const app = express();
    app.use(log);
    app.get('/raw/events', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const token of ['Hel', 'lo', ' world']) {
        res.write(`data: ${JSON.stringify({ token })}\n\n`);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
      res.end('data: [DONE]\n\n');
    });
    const res = await request(app)
      .get('/raw/events')
      .set('x-request-id', 'sse')
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c));
        r.on('end', () => cb(null, text));
      });
    const row = await rowFor(log, 'sse', 1);
    expect(row.response_body).toBe(res.body);
    expect(row.response_body).toContain('data: {"token":" world"}\n\ndata: [DONE]');
    expect(row.response_headers['content-type']).toBe('text/event-stream');
  });

  test.each([
    ['gzip', () => zlib.createGzip()],
    ['deflate', () => zlib.createDeflate()],
    ['br', () => zlib.createBrotliCompress()],
  ])('a %s-compressed response is stored decoded (and mapped)', async (encoding, compressor) => {
    const log = newLog();
    const app = express();
    app.use(log);
    app.use(express.json());
    app.post('/v2/models/:model/infer', (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-encoding', encoding);
      const z = compressor();
      z.pipe(res);
      z.end(JSON.stringify(oipResponse));
    });
    const id = `compressed-${encoding}`;
    const res = await request(app)
      .post('/v2/models/m/infer')
      .set('x-request-id', id)
      .send(oipRequest([1, 2, 3, 4]))
      .expect(200);
    expect(res.body).toEqual(oipResponse);
    const row = await rowFor(log, id, 1);
    expect(row.outputs).toEqual(oipResponse.outputs);
    expect(row.response_headers['content-encoding']).toBe(encoding);
  });
});

describe('Express: outcomes', () => {
  test('an aborted request (client went away) is recorded as aborted with what was seen', async () => {
    const log = newLog();
    const app = express();
    app.use(log);
    app.use(express.json());
    app.post('/v2/models/:model/infer', async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (!res.destroyed) res.json(oipResponse);
    });
    const server = app.listen(0);
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => {
      const req = http.request({
        port,
        method: 'POST',
        path: '/v2/models/m/infer',
        headers: { 'content-type': 'application/json', 'x-request-id': 'aborted-1' },
      });
      req.on('error', () => resolve());
      req.end(JSON.stringify(oipRequest([1, 2, 3, 4])));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 60);
    });
    const row = await rowFor(log, 'aborted-1', 1);
    server.close();
    expect(row.aborted).toBe(true);
    expect(row.status).toBeNull();
    expect(row.inputs[0].data).toEqual([1, 2, 3, 4]);
  });

  test('a handler error answered by the Express error handler is stored with status and error', async () => {
    const log = newLog();
    const app = express();
    app.use(log);
    app.post('/v2/models/:model/infer', () => {
      throw new Error('model crashed');
    });
    app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ error: err.message });
    });
    await request(app)
      .post('/v2/models/m/infer')
      .set('x-request-id', 'crash')
      .send(oipRequest([1, 2, 3, 4]))
      .expect(500);
    const row = await rowFor(log, 'crash', 1);
    expect(row.status).toBe(500);
    expect(row.error).toEqual({ status: 500, message: 'model crashed' });
    expect(row.outputs).toBeNull();
  });

  test('annotations, traceparent and a generated request id are stored', async () => {
    const log = newLog();
    const app = express();
    app.use(log);
    app.use(express.json());
    app.post('/v2/models/:model/infer', (req, res) => {
      annotate(req, { tenant: 'acme', subject: 'p-123' });
      res.json(oipResponse);
    });
    const res = await request(app)
      .post('/v2/models/m/infer')
      .set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
      .set('authorization', 'Bearer secret-token')
      .set('x-api-key', 'k-123')
      .send(oipRequest([1, 2, 3, 4]))
      .expect(200);
    const generated = res.headers['x-request-id'];
    expect(generated).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const row = await rowFor(log, generated, 1);
    expect(row.id).toBe(generated);
    expect(row.annotations).toEqual({ tenant: 'acme', subject: 'p-123' });
    expect(row.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(row.span_id).toBe('00f067aa0ba902b7');
    expect(JSON.stringify(row.request_headers)).not.toMatch(/secret-token|k-123|authorization|x-api-key/);
    expect(row.request_headers.traceparent).toBeDefined();
  });
});
