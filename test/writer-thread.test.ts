// The writer thread: records are built and written off the app's thread by default; where options
// cannot cross it stays in this thread; a thread that dies hands over to a writer here, losing nothing
// the app still holds and saying so.
import type { Express } from 'express';
import request from 'supertest';
import { inferenceLog, type InferlogError } from '@inferlog/express';
import { verifyLog } from '@inferlog/core/audit';
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
