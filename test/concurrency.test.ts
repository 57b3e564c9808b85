import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import { createExpressApp } from '../examples/src/express-oip';
import { createKoaApp } from '../examples/src/koa-oip';
import { predict } from '../examples/src/model';
import { dropSchema, endPool, logOptions, settle, storedRows, uniqueSchema } from './helpers';

const schema = uniqueSchema('conc');
const N = 1000;

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

describe.each([
  ['Express', () => createExpressApp(logOptions(schema, { table: 'express_log', batch: { maxRows: 200, flushIntervalMs: 20 } }))],
  [
    'Koa',
    () => {
      const { app, log } = createKoaApp(logOptions(schema, { table: 'koa_log', batch: { maxRows: 200, flushIntervalMs: 20 } }));
      return { app: app.callback(), log };
    },
  ],
])('%s example app', (name, make) => {
  test(`${N} concurrent inferences give exactly ${N} rows with the right request id, model, inputs and outputs`, async () => {
    const { app, log: maybeLog } = make();
    const log = maybeLog!;
    const table = name === 'Express' ? 'express_log' : 'koa_log';
    await log.ready();
    const { createServer } = await import('node:http');
    const server: Server = createServer(app as never).listen(0);
    const port = (server.address() as AddressInfo).port;
    const features = (i: number) => [20 + (i % 80), (i % 10) / 10, i % 15, i % 3];

    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        request(`http://127.0.0.1:${port}`)
          .post('/v2/models/credit-risk/infer')
          .set('x-request-id', `${name}-${i}`)
          .send({ id: `inf-${i}`, inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: features(i) }] }),
      ),
    );
    server.close();
    expect(responses.every((r) => r.status === 200)).toBe(true);
    for (const [i, r] of responses.entries()) expect(r.headers['x-request-id']).toBe(`${name}-${i}`);

    await settle(log, N);
    await log.close();
    const rows = await storedRows(schema, table);
    expect(rows).toHaveLength(N);
    const byRequestId = new Map(rows.map((row) => [row.request_id, row]));
    expect(byRequestId.size).toBe(N);
    for (let i = 0; i < N; i++) {
      const row = byRequestId.get(`${name}-${i}`);
      expect(row).toMatchObject({
        model_name: 'credit-risk',
        model_version: '1',
        inference_id: `inf-${i}`,
        status: 200,
        protocol: 'oip-v2',
      });
      expect(row!.inputs[0].data).toEqual(features(i));
      expect(row!.outputs[0].data).toEqual(predict([features(i)]));
    }
    expect(log.stats()).toMatchObject({ captured: N, written: N, dropped: 0 });
  });
});
