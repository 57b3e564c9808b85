// The writer thread: records are built and written off the app's thread by default; where options
// cannot cross it stays in this thread; a thread that dies hands over to a writer here, losing nothing
// the app still holds and saying so.
import express, { type Express } from 'express';
import request from 'supertest';
import { annotate, inferenceLog, type InferlogError } from '@inferlog/express';
import { verifyLog } from '@inferlog/core/audit';
import { BodyCollector } from '../packages/core/src/capture/body-collector';
import { Exchange } from '../packages/core/src/capture/exchange';
import { resolveOptions } from '../packages/core/src/options';
import { threadOptions } from '../packages/core/src/writer/thread-options';
import { ThreadWriter } from '../packages/core/src/writer/thread-writer';
import { db, dropSchema, endPool, logOptions, oipApp, oipRequest, storedRows, uniqueSchema } from './helpers';

const schema = uniqueSchema('thread');

const infer = (app: Express, i: number) =>
  request(app)
    .post('/v2/models/m/infer')
    .set('x-request-id', `thread-${i}`)
    .send(oipRequest([i, 0, 0, 0]))
    .expect(200);

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

test('by default the writer runs in a worker thread; worker: false, a mapper function or the embedded store keep it here', async () => {
  const threaded = inferenceLog(logOptions(schema, { table: 'where_default' }));
  const here = inferenceLog(logOptions(schema, { table: 'where_here', worker: false }));
  const mapped = inferenceLog(
    logOptions(schema, { table: 'where_mapped', routes: [{ path: '/x', protocol: () => ({ protocol: 'mine' }) }] }),
  );
  try {
    expect([threaded.logger.threaded, here.logger.threaded, mapped.logger.threaded]).toEqual([true, false, false]);
    expect(() => inferenceLog(logOptions(schema, { worker: 'yes' as never }))).toThrow('option "worker" must be true or false');
  } finally {
    await Promise.all([threaded.close(), here.close(), mapped.close()]);
  }
});

test('a route predicate selects in the app thread, and its records are built in the writer thread with that route', async () => {
  const log = inferenceLog(
    logOptions(schema, {
      table: 'predicate',
      routes: [{ path: (req) => req.path.endsWith('/infer') && req.headers['x-log'] === 'yes', protocol: 'oip-v2' }],
    }),
  );
  const app = oipApp(log);
  await request(app)
    .post('/v2/models/m/infer')
    .set('x-log', 'yes')
    .send(oipRequest([1, 2, 3, 4]))
    .expect(200);
  await request(app)
    .post('/v2/models/m/infer')
    .set('x-log', 'no')
    .send(oipRequest([1, 2, 3, 4]))
    .expect(200);
  await log.close();
  const rows = await storedRows(schema, 'predicate');
  expect(rows).toHaveLength(1);
  // A predicate has no pattern to store: the record takes the route the framework matched.
  expect(rows[0]).toMatchObject({ protocol: 'oip-v2', route: '/v2/models/:model/infer', model_name: 'm' });
  expect(rows[0]!.inputs[0].data).toEqual([1, 2, 3, 4]);
});

test('a writer thread that dies: a writer in this thread takes over, every later record is stored, and the failure is reported', async () => {
  const errors: InferlogError[] = [];
  const log = inferenceLog(logOptions(schema, { table: 'crash', onError: (e) => errors.push(e) }));
  const app = oipApp(log);
  await log.ready();
  for (let i = 0; i < 5; i++) await infer(app, i);
  await log.flush();
  const first = log.logger.chain.id;
  // The thread is killed from outside, as an uncaught failure in it would end it.
  await (log.logger as unknown as { writer: { worker: { terminate(): Promise<number> } } }).writer.worker.terminate();
  for (let i = 5; i < 10; i++) await infer(app, i);
  await log.close();
  expect(errors.map((e) => e.message).join('\n')).toContain('the writer thread exited');
  expect(log.logger.chain.id).not.toBe(first);
  const rows = await storedRows(schema, 'crash');
  expect(rows.map((r) => r.request_id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `thread-${i}`).sort());
  expect(new Set(rows.map((r) => r.chain_id))).toEqual(new Set([first, log.logger.chain.id]));
  expect(log.stats()).toMatchObject({ captured: 10, written: 10, dropped: 0 });
  expect((await verifyLog(db, schema, 'crash')).ok).toBe(true);
});

test('a thread killed with records in flight: every answered request is stored or counted lost, by reason', async () => {
  const dropped: number[] = [];
  const log = inferenceLog(
    logOptions(schema, { table: 'crash_busy', onDrop: (count) => dropped.push(count), batch: { flushIntervalMs: 200 } }),
  );
  const app = oipApp(log);
  await log.ready();
  const thread = (log.logger as unknown as { writer: { worker: { terminate(): Promise<number> } } }).writer.worker;
  // Killed once half were answered: some records are in the thread's memory (its flush interval is long), some on their way, some waiting here.
  let answered = 0;
  const served = Array.from({ length: 200 }, (_, i) =>
    infer(app, 1000 + i).then(() => {
      if (++answered === 100) void thread.terminate();
    }),
  );
  await Promise.all(served);
  await log.close().catch(() => {});
  const stats = log.stats();
  const rows = await storedRows(schema, 'crash_busy');
  expect(rows.length + stats.dropped).toBeGreaterThanOrEqual(200);
  expect(new Set(rows.map((r) => r.request_id)).size).toBe(rows.length);
  expect(dropped.reduce((a, b) => a + b, 0)).toBe(stats.dropped);
  expect((await verifyLog(db, schema, 'crash_busy')).ok).toBe(true);
  console.log(`thread killed under load: 200 answered, ${rows.length} stored, ${stats.dropped} counted lost (writer_failed)`);
});

test('a Buffer hmacKey crosses to the thread; annotations and stream times are stored as in this thread', async () => {
  class Money {
    constructor(readonly cents: number) {}
    toJSON() {
      return `${(this.cents / 100).toFixed(2)} EUR`;
    }
  }
  const key = Buffer.from('0123456789abcdef0123456789abcdef');
  const apps = [true, false].map((worker) => {
    const log = inferenceLog(logOptions(schema, { table: `same_${worker}`, worker, hmacKey: key }));
    const app = express();
    app.use(log);
    app.use(express.json());
    app.post('/v1/chat/completions', (req, res) => {
      annotate(req, { price: new Money(100), n: 12345678901234567890n, tenant: 't-1' });
      res.setHeader('content-type', 'text/event-stream');
      res.write(
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }] })}\n\n`,
      );
      setTimeout(() => {
        res.write(
          `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
        );
        res.end('data: [DONE]\n\n');
      }, 20);
    });
    return { log, app };
  });
  expect(apps.map((a) => a.log.logger.threaded)).toEqual([true, false]);
  for (const { app } of apps)
    for (let i = 0; i < 4; i++)
      await request(app)
        .post('/v1/chat/completions')
        .send({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] })
        .expect(200);
  for (const { log } of apps) await log.close();
  const [threaded, here] = await Promise.all([storedRows(schema, 'same_true'), storedRows(schema, 'same_false')]);
  expect(threaded).toHaveLength(4);
  for (const rows of [threaded, here]) {
    for (const row of rows) {
      expect(row.annotations).toEqual({ price: '1.00 EUR', n: '12345678901234567890', tenant: 't-1' });
      expect(row.usage.time_to_first_token_ms).toBeGreaterThanOrEqual(0);
      expect(row.usage.time_to_first_token_ms).toBeLessThan(row.latency_ms);
      expect(row.request_sha256).toMatch(/^hmac:/);
    }
  }
  expect(threaded.map((r) => r.request_sha256)).toEqual(here.map((r) => r.request_sha256));
});

test('the thread dies during close(): the writer that takes over closes, each loss counted once; a loss the app reported in transit is counted', async () => {
  const told: number[] = [];
  const given = { database: 'postgres://nobody@127.0.0.1:1/none', spillDir: false as const, databaseTimeoutMs: 500 };
  const options = resolveOptions({ ...given, onDrop: (n) => told.push(n), onError: () => {} });
  const writer = new ThreadWriter(options, threadOptions(given, options)!);
  const route = options.selector.routes[0]!;
  const body = (text: string) => {
    const b = new BodyCollector(1 << 20, false, options.bodyDigest);
    b.add(Buffer.from(text));
    b.seal();
    return b;
  };
  const exchanges = Array.from({ length: 3 }, (_, i) =>
    Object.assign(Object.create(Exchange.prototype), {
      id: `01900000-0000-7000-8000-00000000000${i}`,
      requestId: `r${i}`,
      startedAt: Date.now(),
      startMark: 0,
      method: 'POST',
      url: '/v2/models/m/infer',
      routeUrl: '/v2/models/m/infer',
      requestHeaders: {},
      parsedRequestBody: undefined,
      thrown: null,
      requestIncomplete: false,
      annotations: null,
      inFlight: false,
      frameworkRoute: null,
      latencyMs: 1,
      status: 200,
      aborted: false,
      responseHeaders: {},
      head: { argument: undefined, encoding: undefined, lost: false },
      route,
      request: body('{}'),
      response: body('{}'),
    }),
  );
  for (const x of exchanges) writer.take(x);
  await new Promise((resolve) => setTimeout(resolve, 300));
  writer.drop(1, 'capture_failed', 'E_CAPTURE', 'a capture failed');
  // The database is unreachable: close() keeps trying until its deadline, and the thread is killed meanwhile.
  const closing = writer.close(Date.now() + 2_000, 2);
  setTimeout(() => void (writer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate(), 400);
  await closing.catch(() => {});
  // 3 records, 2 requests unfinished at the deadline, 1 capture failed: 6 lost, each counted once.
  expect(writer.stats().dropped).toBe(6);
  expect(told.reduce((a, b) => a + b, 0)).toBe(6);
}, 20_000);
