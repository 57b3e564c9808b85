import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { acquireEmbedded, inferenceLog, pgp } from '@inferlog/express';
import { oipRequest } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-embedded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the embedded store (PGlite over pglite-socket) takes records through the same sink and keeps them on disk', async () => {
  const log = inferenceLog({ database: 'embedded', embeddedDir: dir, spillDir: join(dir, 'spill'), batch: { flushIntervalMs: 20 } });
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (req, res) => res.json({ model_name: req.params.model, outputs: [{ name: 'y', shape: [1], datatype: 'FP32', data: [0.5] }] }));
  for (let i = 0; i < 10; i++) await request(app).post('/v2/models/m/infer').set('x-request-id', `e-${i}`).send(oipRequest([i, 1, 2, 3])).expect(200);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await log.close();
  expect(log.stats()).toMatchObject({ captured: 10, written: 10 });

  // A new embedded server on the same directory (the first one stopped with close()) finds the rows.
  const embedded = await acquireEmbedded(dir);
  const db = pgp({ connectionString: embedded.connectionString, max: 1 });
  try {
    const rows = await db.any('SELECT request_id, inputs FROM inferlog.inference_log ORDER BY request_id');
    expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 10 }, (_, i) => `e-${i}`));
    expect(rows[3].inputs[0].data).toEqual([3, 1, 2, 3]);
  } finally {
    await db.$pool.end();
    await embedded.release();
  }
});
