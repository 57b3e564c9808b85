// Overload: by default (overflow: 'wait') a request that finds the queue full waits at the middleware
// until the log has room, so the API slows down instead of losing records. Real Express and Koa apps,
// the database cut by a proxy, no journal, a queue of a few records.
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import express from 'express';
import Koa from 'koa';
import { inferenceLog as expressLog } from '@inferlog/express';
import { inferenceLog as koaLog } from '@inferlog/koa';
import { DATABASE_URL, db, dropSchema, endPool, logOptions, oipRequest, uniqueSchema, until } from './helpers';
import { TcpProxy } from './tcp-proxy';

const schema = uniqueSchema('overload');
afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

type Log = ReturnType<typeof expressLog> | ReturnType<typeof koaLog>;

async function serve(framework: 'express' | 'koa', log: Log): Promise<{ url: string; close: () => void }> {
  const answer = (model: string) => ({ model_name: model, outputs: [{ name: 'y', shape: [1], datatype: 'FP32', data: [0.5] }] });
  let server: import('node:http').Server;
  if (framework === 'express') {
    const app = express();
    app.use(log as ReturnType<typeof expressLog>);
    app.use(express.json());
    app.post('/v2/models/:model/infer', (req, res) => res.json(answer(req.params.model)));
    server = app.listen(0, '127.0.0.1');
  } else {
    const app = new Koa();
    app.use(log as ReturnType<typeof koaLog>);
    app.use(bodyParser());
    const router = new Router();
    router.post('/v2/models/:model/infer', (ctx) => {
      ctx.body = answer(ctx.params.model!);
    });
    app.use(router.routes());
    server = app.listen(0, '127.0.0.1');
  }
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

const infer = (url: string, i: number) =>
  fetch(`${url}/v2/models/m/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': `over-${i}` },
    body: JSON.stringify(oipRequest(Array.from({ length: 400 }, (_, k) => i + k))),
  }).then(async (res) => ({ status: res.status, body: await res.text() }));

async function drained(log: Log): Promise<void> {
  await until(
    async () => {
      try {
        await log.flush();
        return true;
      } catch {
        return false;
      }
    },
    'the queue to drain',
    60_000,
  );
}

describe.each(['express', 'koa'] as const)('%s', (framework) => {
  test('past maxQueueBytes requests wait instead of being dropped; once the database is back every answered inference is stored', async () => {
    const table = `wait_${framework}`;
    const proxy = await TcpProxy.create(DATABASE_URL);
    await proxy.accept();
    const log = (framework === 'express' ? expressLog : koaLog)(
      logOptions(schema, { table, database: proxy.url(DATABASE_URL), spillDir: false, maxQueueBytes: 32 * 1024 }),
    );
    await log.ready();
    const server = await serve(framework, log);
    await proxy.refuse();
    const n = 60;
    let answered = 0;
    const responses = Array.from({ length: n }, (_, i) =>
      infer(server.url, i).then((r) => {
        answered++;
        return r;
      }),
    );
    // The queue holds a few records; the rest wait at the middleware, unanswered and not dropped.
    await until(() => log.stats().captured > 0 && answered === log.stats().captured, 'the queue to fill', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(answered).toBeLessThan(n);
    expect(log.stats().dropped).toBe(0);
    await proxy.accept();
    const results = await Promise.all(responses);
    server.close();
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    await drained(log);
    const { rows } = await db.one('SELECT count(DISTINCT request_id)::int AS rows FROM $1:name.$2:name', [schema, table]);
    expect(rows).toBe(n);
    expect(log.stats()).toMatchObject({ captured: n, written: n, dropped: 0 });
    await log.close();
    await proxy.refuse();
  }, 120_000);

  test('a request that waits longer than overflowWaitMs is answered 503 unserved; every inference answered 200 is stored', async () => {
    const table = `wait503_${framework}`;
    const proxy = await TcpProxy.create(DATABASE_URL);
    await proxy.accept();
    const log = (framework === 'express' ? expressLog : koaLog)(
      logOptions(schema, { table, database: proxy.url(DATABASE_URL), spillDir: false, maxQueueBytes: 16 * 1024, overflowWaitMs: 300 }),
    );
    await log.ready();
    const server = await serve(framework, log);
    await proxy.refuse();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => infer(server.url, i)));
    server.close();
    const served = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 503);
    expect(served + refused.length).toBe(40);
    expect(refused.length).toBeGreaterThan(0);
    expect(JSON.parse(refused[0]!.body).error).toMatch(
      /^service unavailable: the inference log cannot take more records \(.*; overflow: wait, no room within 300 ms\); the request was not served/,
    );
    await proxy.accept();
    await drained(log);
    const { rows } = await db.one('SELECT count(*)::int AS rows FROM $1:name.$2:name', [schema, table]);
    expect(rows).toBe(served);
    expect(log.stats()).toMatchObject({ captured: served, dropped: 0 });
    await log.close();
    await proxy.refuse();
  }, 120_000);

  test('requests still waiting for room when close() is called are answered 503 unserved, not served into a closed log', async () => {
    const table = `waitclose_${framework}`;
    const proxy = await TcpProxy.create(DATABASE_URL);
    await proxy.accept();
    const log = (framework === 'express' ? expressLog : koaLog)(
      logOptions(schema, { table, database: proxy.url(DATABASE_URL), spillDir: false, maxQueueBytes: 16 * 1024 }),
    );
    await log.ready();
    const server = await serve(framework, log);
    await proxy.refuse();
    let answered = 0;
    const responses = Array.from({ length: 30 }, (_, i) =>
      infer(server.url, i).then((r) => {
        answered++;
        return r;
      }),
    );
    await until(() => log.stats().captured > 0 && answered === log.stats().captured, 'the queue to fill', 10_000);
    await proxy.accept();
    await log.close();
    const results = await Promise.all(responses);
    server.close();
    const served = results.filter((r) => r.status === 200).length;
    expect(results.filter((r) => r.status !== 200 && r.status !== 503)).toEqual([]);
    expect(served).toBeLessThan(30);
    const { rows } = await db.one('SELECT count(*)::int AS rows FROM $1:name.$2:name', [schema, table]);
    expect(rows).toBe(served);
    expect(log.stats()).toMatchObject({ captured: served, written: served, dropped: 0 });
    await proxy.refuse();
  }, 120_000);
});
