import request from 'supertest';
import { inferenceLog, InferlogError } from '@inferlog/express';
import { DATABASE_URL, dropSchema, endPool, logOptions, oipApp, oipRequest, settle, storedRows, uniqueSchema } from './helpers';
import { TcpProxy } from './tcp-proxy';

const schema = uniqueSchema('life');

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

test('close() with rows pending writes them all before resolving', async () => {
  const log = inferenceLog(logOptions(schema, { table: 'pending', batch: { maxRows: 10_000, flushIntervalMs: 3_600_000 } }));
  const app = oipApp(log);
  await log.ready();
  for (let i = 0; i < 50; i++)
    await request(app)
      .post('/v2/models/m/infer')
      .send(oipRequest([i, 0, 0, 0]))
      .expect(200);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(log.stats()).toMatchObject({ captured: 50, written: 0, queueRows: 50 });
  await log.close();
  expect(log.stats()).toMatchObject({ written: 50, queueRows: 0, queueBytes: 0 });
  expect(await storedRows(schema, 'pending')).toHaveLength(50);
});

test('with PostgreSQL unreachable at start the app still serves, stats() and onError report it, and records land once it is back', async () => {
  const proxy = await TcpProxy.create(DATABASE_URL);
  const errors: InferlogError[] = [];
  const log = inferenceLog(logOptions(schema, { table: 'outage', database: proxy.url(DATABASE_URL), onError: (e) => errors.push(e) }));
  const app = oipApp(log);
  for (let i = 0; i < 20; i++) {
    const res = await request(app)
      .post('/v2/models/m/infer')
      .send(oipRequest([i, 0, 0, 0]));
    expect(res.status).toBe(200);
    expect(res.body.model_name).toBe('m');
  }
  await expect(log.ready()).rejects.toThrow(/cannot open the log database/);
  await expect(log.flush()).rejects.toThrow(/20 records are still queued/);
  expect(errors.length).toBeGreaterThan(0);
  expect(errors[0]).toBeInstanceOf(InferlogError);
  expect(errors[0].code).toBe('E_STORE_START');
  expect(log.stats()).toMatchObject({ captured: 20, written: 0, dropped: 0, storeReady: false, queueRows: 20 });
  expect(log.stats().lastError).toMatch(/ECONNREFUSED/);

  await proxy.accept();
  await settle(log, 20);
  expect(log.stats()).toMatchObject({ written: 20, queueRows: 0, storeReady: true });
  expect(await storedRows(schema, 'outage')).toHaveLength(20);
  await log.close();
  await proxy.refuse();
});

test('without a spill journal, records still unwritten at the close() deadline are counted as dropped and close() rejects saying so', async () => {
  const proxy = await TcpProxy.create(DATABASE_URL);
  const errors: InferlogError[] = [];
  const log = inferenceLog(
    logOptions(schema, { table: 'deadline', database: proxy.url(DATABASE_URL), spillDir: false, onError: (e) => errors.push(e) }),
  );
  const app = oipApp(log);
  for (let i = 0; i < 5; i++)
    await request(app)
      .post('/v2/models/m/infer')
      .send(oipRequest([i, 0, 0, 0]))
      .expect(200);
  await expect(log.close({ timeoutMs: 300 })).rejects.toMatchObject({
    code: 'E_CLOSED',
    message: expect.stringMatching(/5 records could not be written or spilled/),
  });
  expect(log.stats()).toMatchObject({ captured: 5, written: 0, dropped: 5 });
  expect(errors.some((e) => e.code === 'E_CLOSED')).toBe(true);
  // After close a closed log can take no record: under the default policy (wait) an inference is
  // answered 503 unserved rather than answered and missing from the log; other requests pass untouched.
  const refused = await request(app)
    .post('/v2/models/m/infer')
    .send(oipRequest([1, 0, 0, 0]))
    .expect(503);
  expect(refused.body.error).toMatch(/the inference log is closed/);
  await request(app).get('/health').expect(404);
  expect(log.stats()).toMatchObject({ captured: 5, dropped: 5 });
});

test('after close(), a dropping overflow policy refuses inferences too: one served then could be in no completeness statement', async () => {
  const log = inferenceLog(logOptions(schema, { table: 'closed_drop', overflow: 'drop-newest' }));
  const app = oipApp(log);
  await request(app)
    .post('/v2/models/m/infer')
    .send(oipRequest([1, 0, 0, 0]))
    .expect(200);
  await log.close();
  const refused = await request(app)
    .post('/v2/models/m/infer')
    .send(oipRequest([2, 0, 0, 0]))
    .expect(503);
  expect(refused.body.error).toMatch(/the inference log is closed/);
  expect(log.stats()).toMatchObject({ captured: 1, written: 1, dropped: 0 });
});

test('a failing onError never reaches the app', async () => {
  const log = inferenceLog(
    logOptions(schema, {
      database: 'postgres://postgres@127.0.0.1:1/none',
      spillDir: false,
      onError: () => {
        throw new Error('bad handler');
      },
    }),
  );
  const app = oipApp(log);
  await request(app)
    .post('/v2/models/m/infer')
    .send(oipRequest([1, 2, 3, 4]))
    .expect(200);
  await expect(log.close({ timeoutMs: 100 })).rejects.toThrow(InferlogError);
});
