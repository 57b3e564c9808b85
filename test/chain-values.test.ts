// The canonical form must describe the row as PostgreSQL stores it: awkward values written through the
// logger (a custom mapper returns them) must verify when read back.
import express from 'express';
import request from 'supertest';
import { inferenceLog, type Mapper } from '@inferlog/express';
import { verifyLog } from '@inferlog/core/audit';
import { db, dropSchema, endPool, logOptions, settle, uniqueSchema } from './helpers';

const schema = uniqueSchema('values');

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

test('strings, big and negative-zero numbers, keys sorted by UTF-16 code units, U+0000 and lone surrogates: stored rows verify', async () => {
  const awkward: Mapper = function awkward() {
    return {
      parameters: 'a JSON string in a jsonb column',
      inputs: [{ name: 'x', datatype: 'FP64', shape: [5], data: [1e21, -0, 0.1 + 0.2, 5e-324, -1.5] }],
      outputs: { b: 1, a: 2, é: 3, '😀': 4, Z: 5, '': 6, 'nul\u0000key': 7 },
      usage: { text: 'nul \u0000 and lone \ud800 surrogate', list: [null, true, 'x', { nested: [] }] },
      response_parameters: 42,
      model_name: 'awk\u0000ward',
    };
  };
  const log = inferenceLog(logOptions(schema, { routes: [{ path: '/score', protocol: awkward }] }));
  const app = express();
  app.use(log);
  app.use((_req, res) => res.type('text/plain').send('odd \u0000 body'));
  for (let i = 0; i < 5; i++) await request(app).post('/score').set('x-request-id', `v-${i}`).send({ i }).expect(200);
  await settle(log, 5);
  await log.event('v-1', { type: 'feedback', data: 'just a string', actor: 'a\u0000b' });
  await log.close();
  const report = await verifyLog(db, schema, 'inference_log');
  expect(report.problems).toEqual([]);
  expect(report).toMatchObject({ ok: true, rows: 6 + 1 }); // and the writer's final completeness statement
  const [row] = await db.any("SELECT parameters, outputs, model_name FROM $1:name.inference_log WHERE request_id = 'v-0'", [schema]);
  expect(row).toEqual({
    parameters: 'a JSON string in a jsonb column',
    outputs: { b: 1, a: 2, é: 3, '😀': 4, Z: 5, '': 6, 'nul\ufffdkey': 7 },
    model_name: 'awk\ufffdward',
  });
});

test('boxed primitives from a custom mapper are stored unwrapped, a BigInt as its decimal string, an event with one is refused: the rest verifies', async () => {
  const schema2 = uniqueSchema('values_boxed');
  const boxed: Mapper = function boxed() {
    return {
      parameters: { n: new Number(2.5), s: new String('boxed'), b: new Boolean(false), gone: undefined },
      outputs: [{ name: 'y', datatype: 'INT64', shape: [1], data: [9007199254740993n] }],
    } as never;
  };
  const log = inferenceLog(logOptions(schema2, { routes: [{ path: '/score', protocol: boxed }] }));
  const app = express();
  app.use(log);
  app.use((_req, res) => res.json({ ok: true }));
  try {
    await request(app).post('/score').set('x-request-id', 'boxed').send({}).expect(200);
    await settle(log, 1);
    await expect(log.event('boxed', { type: 'feedback', data: { big: 12345678901234567890n } as never })).rejects.toMatchObject({
      code: 'E_EVENT',
      message: expect.stringContaining('"data" must be JSON'),
    });
    await log.event('boxed', { type: 'feedback', data: { n: new Number(1), s: new String('x') } as never });
    await log.close();
    const report = await verifyLog(db, schema2, 'inference_log');
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, rows: 2 + 1 }); // and the writer's final completeness statement
    const row = await db.one("SELECT parameters, outputs, schema_errors FROM $1:name.inference_log WHERE request_id = 'boxed'", [schema2]);
    expect(row).toEqual({
      parameters: { n: 2.5, s: 'boxed', b: false },
      outputs: [{ name: 'y', datatype: 'INT64', shape: [1], data: ['9007199254740993'] }],
      schema_errors: null,
    });
    const event = await db.one("SELECT data FROM $1:name.inference_log_event WHERE type = 'feedback'", [schema2]);
    expect(event.data).toEqual({ n: 1, s: 'x' });
  } finally {
    await dropSchema(schema2);
  }
});
