import express from 'express';
import request from 'supertest';
import { Registry } from 'prom-client';
import { inferenceLog, registerInferlogMetrics } from '@inferlog/express';
import { dropSchema, endPool, logOptions, oipRequest, settle, uniqueSchema } from './helpers';

const schema = uniqueSchema('prom');

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

test('stats() are exported as inferlog_* Prometheus metrics, labelled by table', async () => {
  const log = inferenceLog(logOptions(schema));
  const other = inferenceLog(logOptions(schema, { table: 'other_log' }));
  const registry = new Registry();
  registerInferlogMetrics(log, registry);
  registerInferlogMetrics(other, registry);
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (_req, res) => res.json({ outputs: [] }));
  for (let i = 0; i < 7; i++)
    await request(app)
      .post('/v2/models/m/infer')
      .send(oipRequest([i, 0, 0, 0]))
      .expect(200);
  await settle(log, 7);
  await other.ready();
  const text = await registry.metrics();
  expect(text).toContain(`inferlog_captured_total{table="${schema}.inference_log"} 7`);
  expect(text).toContain(`inferlog_written_total{table="${schema}.inference_log"} 7`);
  expect(text).toContain(`inferlog_written_total{table="${schema}.other_log"} 0`);
  expect(text).toContain(`inferlog_dropped_total{table="${schema}.inference_log"} 0`);
  expect(text).toContain(`inferlog_queue_rows{table="${schema}.inference_log"} 0`);
  expect(text).toContain(`inferlog_store_ready{table="${schema}.inference_log"} 1`);
  expect(text).toMatch(/# TYPE inferlog_spilled_total counter/);
  expect(text).toMatch(/# TYPE inferlog_journal_bytes gauge/);
  await log.close();
  await other.close();
});
