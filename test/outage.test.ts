import express from 'express';
import request from 'supertest';
import { inferenceLog } from '@inferlog/express';
import { DATABASE_URL, dropSchema, endPool, logOptions, oipRequest, settle, storedRows, uniqueSchema } from './helpers';
import { TcpProxy } from './tcp-proxy';

const schema = uniqueSchema('outage');

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

test('connections cut while the app runs: the app keeps serving, nothing crashes, every record lands after recovery', async () => {
  const proxy = await TcpProxy.create(DATABASE_URL);
  await proxy.accept();
  const log = inferenceLog(logOptions(schema, { database: proxy.url(DATABASE_URL) }));
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (_req, res) => res.json({ outputs: [] }));
  await log.ready();
  const send = (i: number) =>
    request(app)
      .post('/v2/models/m/infer')
      .set('x-request-id', `o-${i}`)
      .send(oipRequest([i, 0, 0, 0]))
      .expect(200);

  for (let i = 0; i < 30; i++) await send(i);
  await settle(log, 30);
  await proxy.refuse(); // idle pooled connections are cut, new ones refused
  for (let i = 30; i < 60; i++) await send(i);
  for (let i = 0; i < 250 && log.stats().retried === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(log.stats().written).toBe(30);
  expect(log.stats().retried).toBeGreaterThan(0);
  await proxy.accept();
  await settle(log, 60);
  const rows = await storedRows(schema);
  expect(new Set(rows.map((r) => r.request_id)).size).toBe(60);
  expect(rows).toHaveLength(60);
  await log.close();
  await proxy.refuse();
});
