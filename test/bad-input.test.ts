import { createHash } from 'node:crypto';
import request from 'supertest';
import type { InferenceLogOptions } from '@inferlog/core';
import { createExpressApp } from '../examples/src/express-oip';
import { createKoaApp } from '../examples/src/koa-oip';
import { dropSchema, endPool, logOptions, settle, storedRows, uniqueSchema } from './helpers';

const schema = uniqueSchema('bad');
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const MiB = 1024 * 1024;
const hugeJson = JSON.stringify({
  inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
  parameters: { padding: 'p'.repeat(20 * MiB) },
});

const cases: { name: string; contentType: string; body: string }[] = [
  { name: 'malformed JSON', contentType: 'application/json', body: '{"inputs": [1, 2' },
  { name: 'non-JSON text', contentType: 'text/plain', body: 'hello model' },
  { name: 'empty body', contentType: 'application/json', body: '' },
  { name: 'JSON that is not OIP', contentType: 'application/json', body: '[1, 2, 3]' },
  { name: 'a 20 MiB body', contentType: 'application/json', body: hugeJson },
];

const frameworks = [
  [
    'Express',
    'express_log',
    (options: InferenceLogOptions | null) => {
      const { app, log } = createExpressApp(options);
      return { handler: app, log };
    },
  ],
  [
    'Koa',
    'koa_log',
    (options: InferenceLogOptions | null) => {
      const { app, log } = createKoaApp(options);
      return { handler: app.callback(), log };
    },
  ],
] as const;

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

describe.each(frameworks)('%s', (framework, table, make) => {
  test('bad and huge bodies: the app answers exactly as without inferlog, and each request is stored raw and capped', async () => {
    const logged = make(logOptions(schema, { table }));
    const bare = make(null);
    const log = logged.log!;
    await log.ready();
    for (const [i, c] of cases.entries()) {
      const send = (handler: unknown) =>
        request(handler as never)
          .post('/v2/models/credit-risk/infer')
          .set('content-type', c.contentType)
          .set('x-request-id', `${framework}-${i}`)
          .send(c.body);
      const [withLog, without] = [await send(logged.handler), await send(bare.handler)];
      expect({ case: c.name, status: withLog.status, body: withLog.text, type: withLog.headers['content-type'] }).toEqual({
        case: c.name,
        status: without.status,
        body: without.text,
        type: without.headers['content-type'],
      });
    }
    await settle(log, cases.length);
    await log.close();
    const rows = await storedRows(schema, table);
    expect(rows).toHaveLength(cases.length);
    for (const [i, c] of cases.entries()) {
      const row = rows.find((r) => r.request_id === `${framework}-${i}`)!;
      expect(row).toBeDefined();
      if (c.body === hugeJson) {
        // Both apps refuse it (413). Express drains the body; Koa's parser stops reading and the
        // connection closes: then size and digest cover what arrived, and the cut is noted.
        expect(row.status).toBe(413);
        expect(row.truncated).toContain('request_body');
        expect(hugeJson.startsWith(row.request_body)).toBe(true);
        expect(row.request_body.length).toBe(Math.min(MiB, Number(row.request_bytes)));
        if (Number(row.request_bytes) === hugeJson.length) expect(row.request_sha256).toBe(sha256(hugeJson));
        else expect(row.request_sha256).toBe(sha256(hugeJson.slice(0, Number(row.request_bytes))));
        continue;
      }
      expect(Number(row.request_bytes)).toBe(Buffer.byteLength(c.body));
      expect(row.request_sha256).toBe(c.body === '' ? null : sha256(c.body));
      if (c.name === 'empty body') {
        expect(row.request_body).toBeNull();
      } else {
        expect(row.request_body).toBe(c.body);
        expect(row.schema_errors[0]).toMatchObject({ part: 'request' });
      }
    }
  });
});

test('JSON nested 100,000 deep (which JSON.stringify cannot write back) is stored cut at 200 levels, the part named in truncated', async () => {
  const express = (await import('express')).default;
  const { inferenceLog } = await import('@inferlog/express');
  const log = inferenceLog(logOptions(schema, { table: 'deep_log' }));
  const app = express();
  app.use(log);
  app.use(express.json({ limit: '5mb' }));
  app.post('/v1/chat/completions', (_req, res) => {
    res.json({ id: 'c', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] });
  });
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const body = `{"model":"m","messages":[{"role":"user","content":"hi"}],"metadata":${deep}}`;
  await request(app)
    .post('/v1/chat/completions')
    .set('content-type', 'application/json')
    .set('x-request-id', 'deep')
    .send(body)
    .expect(200);
  await settle(log, 1);
  const [row] = await storedRows(schema, 'deep_log');
  expect(row).toMatchObject({ request_id: 'deep', protocol: 'openai-chat', truncated: ['parameters'] });
  expect(JSON.stringify(row.parameters)).toContain('nested deeper than 200 levels: not stored');
  expect((row.outputs as { data: unknown[] }[])[0].data).toEqual([{ role: 'assistant', content: 'ok' }]);
  expect(log.stats()).toMatchObject({ written: 1, dropped: 0 });
  await log.close();
});
