// Fuzzed payloads through real Express and Koa apps: every exchange, however broken its payloads, is one row.
import express from 'express';
import Koa from 'koa';
import fc from 'fast-check';
import request from 'supertest';
import { inferenceLog } from '@inferlog/express';
import { inferenceLog as koaInferenceLog } from '@inferlog/koa';
import { hostileBinary, hostileBody, hostileStream } from '../packages/core/test/support/payload-arbitraries';
import { dropSchema, endPool, logOptions, settle, storedRows, uniqueSchema } from './helpers';

const schema = uniqueSchema('fuzz');
const koaSchema = uniqueSchema('fuzzkoa');
const errors: string[] = [];
const routes = [
  { path: '/v2/models/:model/infer', protocol: 'oip-v2' as const },
  { path: '/v1/models/:model\\:predict', protocol: 'kserve-v1' as const },
  { path: '/v1/chat/completions', protocol: 'openai' as const },
  '/auto/*rest',
];
const onError = (e: { code: string; message: string }) => errors.push(`${e.code} ${e.message}`);
const log = inferenceLog(logOptions(schema, { routes, onError }));
const koaLog = koaInferenceLog(logOptions(koaSchema, { routes, onError }));

afterAll(async () => {
  await log.close();
  await koaLog.close();
  await dropSchema(schema);
  await dropSchema(koaSchema);
  await endPool();
});

interface Case {
  path: string;
  request: Buffer;
  requestHeaders: Record<string, string>;
  response: Buffer;
  responseHeaders: Record<string, string>;
  status: number;
}

/** Keeps the response body as bytes (supertest would otherwise parse the broken JSON). */
function rawBody(res: NodeJS.ReadableStream & request.Response, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

const paths = fc.constantFrom('/v2/models/m/infer', '/v1/models/m:predict', '/v1/chat/completions', '/auto/x');
const cases: fc.Arbitrary<Case> = fc.oneof(
  fc.record({
    path: paths,
    request: hostileBody,
    requestHeaders: fc.constant({ 'content-type': 'application/json' }),
    response: hostileBody,
    responseHeaders: fc.constant({ 'content-type': 'application/json' }),
    status: fc.constantFrom(200, 400, 500),
  }),
  fc.record({
    path: paths,
    request: hostileBody,
    requestHeaders: fc.constant({ 'content-type': 'application/json' }),
    response: hostileStream,
    responseHeaders: fc.constant({ 'content-type': 'text/event-stream' }),
    status: fc.constant(200),
  }),
  fc.tuple(paths, hostileBinary, hostileBinary).map(([path, req, res]) => ({
    path,
    request: req.body,
    requestHeaders: { 'content-type': 'application/octet-stream', 'inference-header-content-length': req.headerLength },
    response: res.body,
    responseHeaders: { 'content-type': 'application/octet-stream', 'inference-header-content-length': res.headerLength },
    status: 200,
  })),
);

test('300 fuzzed exchanges over every protocol route: 300 rows, each found by its request id, nothing thrown into the app', async () => {
  const sample = fc.sample(cases, { numRuns: 300, seed: 20261125 });
  const app = express();
  app.use(log);
  app.use((req, res) => {
    const c = sample[Number(req.headers['x-case'])];
    req.resume(); // the app never reads the body; the log still sees it
    res.status(c.status).set(c.responseHeaders).end(c.response);
  });
  for (const [i, c] of sample.entries()) {
    const res = await request(app)
      .post(c.path)
      .set({ ...c.requestHeaders, 'x-case': String(i), 'x-request-id': `fuzz-${i}` })
      .send(c.request)
      .buffer(true)
      .parse(rawBody as never);
    expect([res.status, res.body]).toEqual([c.status, c.response]);
  }
  await settle(log, sample.length);
  const rows = await storedRows(schema);
  expect(rows.map((r) => r.request_id).sort()).toEqual(sample.map((_, i) => `fuzz-${i}`).sort());
  expect(log.stats()).toMatchObject({ captured: 300, written: 300, dropped: 0 });
  expect(errors.filter((e) => !e.startsWith('E_WRITE'))).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test('100 fuzzed exchanges through Koa: 100 rows, responses untouched', async () => {
  const sample = fc.sample(cases, { numRuns: 100, seed: 20261205 });
  const app = new Koa();
  app.use(koaLog);
  app.use((ctx) => {
    const c = sample[Number(ctx.get('x-case'))];
    ctx.req.resume();
    ctx.status = c.status;
    ctx.set(c.responseHeaders);
    ctx.body = c.response;
  });
  for (const [i, c] of sample.entries()) {
    const res = await request(app.callback())
      .post(c.path)
      .set({ ...c.requestHeaders, 'x-case': String(i), 'x-request-id': `koafuzz-${i}` })
      .send(c.request)
      .buffer(true)
      .parse(rawBody as never);
    expect([res.status, res.body]).toEqual([c.status, c.response]);
  }
  await settle(koaLog, sample.length);
  const rows = await storedRows(koaSchema);
  expect(rows.map((r) => r.request_id).sort()).toEqual(sample.map((_, i) => `koafuzz-${i}`).sort());
  expect(koaLog.stats()).toMatchObject({ captured: 100, written: 100, dropped: 0 });
  expect(errors.filter((e) => !e.startsWith('E_WRITE'))).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});
