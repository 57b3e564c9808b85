// Values a client chooses (model name and version, inference id, request id header, path) of any length
// and content: the request is answered, its row stored with the whole value, and the filters of the CLI
// and of the audit functions find it through an index (issue 19, item 4).
import { randomBytes } from 'node:crypto';
import express from 'express';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import request from 'supertest';
import { inferenceLog as expressLog, type InferenceLogOptions } from '@inferlog/express';
import { inferenceLog as koaLog } from '@inferlog/koa';
import { logStats, pgp, queryRecords, showInference, tailRecords, verifyLog, type RecordFilter } from '@inferlog/core/audit';
import { cli } from './cli-helpers';
import { DATABASE_URL, dropSchema, endPool, logOptions, settle, storedRows, uniqueSchema, type StoredRow } from './helpers';

const schema = uniqueSchema('long');
const audit = pgp({ connectionString: DATABASE_URL, max: 2 });
const MiB = 1024 * 1024;

/** Characters of one to four UTF-8 bytes each. */
const ALPHABET = Array.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.üéßøñ模型推理日志😀🚀🧪');
const ASCII = Array.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~');

/** Random characters of `alphabet` (so PostgreSQL cannot compress them below the index limit) to `bytes` bytes of UTF-8. */
function randomValue(tag: string, bytes: number, alphabet: readonly string[]): string {
  const parts = [`${tag}:`];
  let size = Buffer.byteLength(parts[0]!);
  const random = randomBytes(bytes);
  for (let i = 0; size < bytes; i++) {
    const c = alphabet[random[i % bytes]! % alphabet.length]!;
    const width = Buffer.byteLength(c);
    if (size + width > bytes) break;
    parts.push(c);
    size += width;
  }
  return parts.join('').padEnd(parts.join('').length + (bytes - size), 'x');
}
const longValue = (tag: string, bytes: number) => randomValue(tag, bytes, ALPHABET);
const asciiValue = (tag: string, bytes: number) => randomValue(tag, bytes, ASCII);

const SIZES = [3 * 1024, 10 * 1024, 1_000_000] as const;
/** What fits in a URL or a header: Node's parser refuses more than 16 KiB of them. */
const HEADER_SIZES = [3 * 1024, 10 * 1024] as const;

/** An OpenAI-style chat API that echoes the model, and an OIP API that answers with the model, version and id it is told. */
function openAiAnswer(body: { model?: unknown }) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  };
}
function oipAnswer(model: string, body: { id?: string; parameters?: { answer_model?: string; answer_version?: string } }) {
  return {
    model_name: body.parameters?.answer_model ?? model,
    ...(body.parameters?.answer_version !== undefined ? { model_version: body.parameters.answer_version } : {}),
    ...(body.id !== undefined ? { id: body.id } : {}),
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [0.5] }],
  };
}

type Make = (options: InferenceLogOptions) => { handler: unknown; log: ReturnType<typeof expressLog> };

const frameworks: [string, Make][] = [
  [
    'Express',
    (options) => {
      const log = expressLog(options);
      const app = express();
      app.use(log);
      app.use(express.json({ limit: '20mb' }));
      app.post('/v1/chat/completions', (req, res) => {
        res.json(openAiAnswer(req.body));
      });
      app.post('/v2/models/:model/infer', (req, res) => {
        res.json(oipAnswer(req.params.model!, req.body));
      });
      app.post('/v2/models/:model/versions/:version/infer', (req, res) => {
        res.json(oipAnswer(req.params.model!, req.body));
      });
      return { handler: app, log };
    },
  ],
  [
    'Koa',
    (options) => {
      const log = koaLog(options);
      const app = new Koa();
      app.use(log);
      app.use(bodyParser({ jsonLimit: '20mb' }));
      const router = new Router();
      router.post('/v1/chat/completions', (ctx) => {
        ctx.body = openAiAnswer(ctx.request.body as { model?: unknown });
      });
      router.post('/v2/models/:model/infer', (ctx) => {
        ctx.body = oipAnswer(ctx.params.model!, ctx.request.body as never);
      });
      router.post('/v2/models/:model/versions/:version/infer', (ctx) => {
        ctx.body = oipAnswer(ctx.params.model!, ctx.request.body as never);
      });
      app.use(router.routes());
      return { handler: app.callback() as unknown, log: log as never };
    },
  ],
];

afterAll(async () => {
  await audit.$pool.end();
  await dropSchema(schema);
  await endPool();
});

/** No schema error claims that PostgreSQL refused the record (a stripped record says so). */
function notRefused(row: StoredRow): void {
  expect(JSON.stringify(row.schema_errors ?? [])).not.toMatch(/refused|could not build/);
  expect(row.truncated).toEqual([]);
}

/** The records the audit functions and the CLI find by `filter` (ids), and the model of each record stats counted. */
async function found(table: string, filter: RecordFilter): Promise<Record<string, string[]>> {
  const page = await queryRecords(audit, schema, table, filter, { limit: 100 });
  const tail = await tailRecords(audit, schema, table, 100, filter);
  const stats = await logStats(audit, schema, table, filter);
  const args = [
    ...(filter.model !== undefined ? ['--model', filter.model] : []),
    ...(filter.version !== undefined ? ['--version', filter.version] : []),
  ];
  const run = await cli(schema, ['query', '--json', '--table', table, '--limit', '100', ...args]);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  const fromCli = JSON.parse(run.stdout) as { rows: { id: string }[] };
  return {
    query: page.rows.map((r) => r.id),
    tail: tail.rows.map((r) => r.id),
    cli: fromCli.rows.map((r) => r.id),
    stats: stats.flatMap((s) => Array.from({ length: s.count }, () => s.model_name ?? '')),
  };
}

describe.each(frameworks)('%s', (framework, make) => {
  const table = `${framework.toLowerCase()}_log`;
  /** A fresh app and logger on this framework's table (each test closes its logger to read what it wrote). */
  const started = async () => {
    const built = make(logOptions(schema, { table, maxBodyBytes: 4 * MiB }) as InferenceLogOptions);
    await built.log.ready();
    return { server: built.handler as never, log: built.log };
  };

  test.each(SIZES)('a %i-byte model, model version and inference id are stored whole and found by the filters', async (size) => {
    const built = await started();
    const server = built.server;
    const chatModel = longValue(`chat-${framework}-${size}`, size);
    const oipModel = longValue(`oip-${framework}-${size}`, size);
    const version = longValue(`version-${framework}-${size}`, size);
    const inferenceId = longValue(`id-${framework}-${size}`, size);

    const chat = await request(server)
      .post('/v1/chat/completions')
      .set('x-request-id', `chat-${framework}-${size}`)
      .send({ model: chatModel, messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.status).toBe(200);
    const oip = await request(server)
      .post('/v2/models/short/infer')
      .set('x-request-id', `oip-${framework}-${size}`)
      .send({
        id: inferenceId,
        parameters: { answer_model: oipModel, answer_version: version },
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
      });
    expect(oip.status).toBe(200);
    await settle(built.log, 2);
    expect(built.log.stats()).toMatchObject({ written: 2, dropped: 0 });
    await built.log.close();

    const rows = await storedRows(schema, table);
    const chatRow = rows.find((r) => r.request_id === `chat-${framework}-${size}`)!;
    const oipRow = rows.find((r) => r.request_id === `oip-${framework}-${size}`)!;
    expect(chatRow.model_name).toBe(chatModel);
    expect(oipRow).toMatchObject({ model_name: oipModel, model_version: version, inference_id: inferenceId });
    notRefused(chatRow);
    notRefused(oipRow);

    for (const [row, filter] of [
      [chatRow, { model: chatModel }],
      [oipRow, { model: oipModel }],
      [oipRow, { model: oipModel, version }],
    ] as const) {
      const ids = await found(table, filter);
      expect(ids).toEqual({ query: [row.id], tail: [row.id], cli: [row.id], stats: [row.model_name] });
    }
    // A value that shares the indexed prefix but differs after it is not a match.
    expect((await found(table, { model: `${chatModel}x` })).query).toEqual([]);
    expect((await found(table, { model: chatModel.slice(0, -1) })).query).toEqual([]);

    const shown = await showInference(audit, schema, table, chatRow.id);
    expect(shown.inferences.map((i) => i.record.model_name)).toEqual([chatModel]);
    expect(shown.inferences[0]!.chain?.ok).toBe(true);
    expect((await verifyLog(audit, schema, table)).ok).toBe(true);
  });

  test.each(HEADER_SIZES)('a %i-byte model or version in the path, or request id header: answered, stored whole, found', async (size) => {
    const built = await started();
    const model = asciiValue(`path-${framework}-${size}`, size);
    const version = asciiValue(`v-${framework}-${size}`, size);
    const requestId = asciiValue(`rid-${framework}-${size}`, size);
    // Node refuses more than 16 KiB of request line and headers together: one long value per request.
    const sent = [
      { path: `/v2/models/${model}/infer`, requestId: `path-model-${framework}-${size}`, model, version: null },
      { path: `/v2/models/m/versions/${version}/infer`, requestId: `path-version-${framework}-${size}`, model: 'm', version },
      { path: '/v2/models/m/infer', requestId, model: 'm', version: null },
    ];
    for (const s of sent) {
      const res = await request(built.server)
        .post(s.path)
        .set('x-request-id', s.requestId)
        .send({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] });
      expect(res.status).toBe(200);
    }
    await settle(built.log, sent.length);
    expect(built.log.stats()).toMatchObject({ written: sent.length, dropped: 0 });
    await built.log.close();

    const rows = await storedRows(schema, table);
    for (const s of sent) {
      const row = rows.find((r) => r.request_headers?.['x-request-id'] === s.requestId)!;
      expect(row).toMatchObject({ path: s.path, model_name: s.model, model_version: s.version });
      notRefused(row);
      if (s.model !== 'm')
        expect(await found(table, { model })).toEqual({ query: [row.id], tail: [row.id], cli: [row.id], stats: [model] });
      if (s.version !== null) expect((await found(table, { model: 'm', version })).query).toEqual([row.id]);
      // A request id longer than 200 characters is not echoed (docs/record.md): the row's id stands in for it.
      const key = s.requestId.length <= 200 ? s.requestId : row.id;
      expect(row.request_id).toBe(key);
      const shown = await showInference(audit, schema, table, key);
      expect(shown.inferences.map((i) => i.record.id)).toEqual([row.id]);
    }
  });
});

test('a model name with U+0000, a lone surrogate or U+FFFD is stored (as documented: U+FFFD) and the filter finds it', async () => {
  const table = 'odd_log';
  const log = expressLog(logOptions(schema, { table }));
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v1/chat/completions', (req, res) => {
    res.json(openAiAnswer(req.body));
  });
  app.post('/v2/models/:model/infer', (req, res) => {
    res.json(oipAnswer(req.params.model!, req.body));
  });
  // U+0000 and bytes that are not UTF-8, percent-encoded in the path: the route's parameter decodes them.
  const paths = ['/v2/models/a%00b/infer', '/v2/models/%FF%FEnot-utf8/infer', `/v2/models/${'%F0%9F%98%80'.repeat(1000)}/infer`];
  for (const [i, path] of paths.entries()) {
    const res = await request(app)
      .post(path)
      .set('x-request-id', `odd-path-${i}`)
      .send({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] });
    expect(res.status).toBeLessThan(500);
  }
  const models = ['nul\u0000model', 'lone\ud800surrogate', `${'\u0000'.repeat(3000)}many`];
  for (const [i, model] of models.entries()) {
    const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });
    await request(app)
      .post('/v1/chat/completions')
      .set('content-type', 'application/json')
      .set('x-request-id', `odd-${i}`)
      .send(body)
      .expect(200);
  }
  await settle(log, models.length + paths.length);
  expect(log.stats()).toMatchObject({ written: models.length + paths.length, dropped: 0 });
  await log.close();
  const rows = await storedRows(schema, table);
  for (const [i, model] of models.entries()) {
    const row = rows.find((r) => r.request_id === `odd-${i}`)!;
    const stored = model.replaceAll('\u0000', '\ufffd').replace(/[\ud800-\udfff]/g, '\ufffd');
    expect(row.model_name).toBe(stored);
    notRefused(row);
    const page = await queryRecords(audit, schema, table, { model });
    expect(page.rows.map((r) => r.id)).toEqual([row.id]);
  }
  for (const [i, path] of paths.entries()) {
    const row = rows.find((r) => r.request_id === `odd-path-${i}`)!;
    expect(row.path).toBe(path);
    notRefused(row);
    expect(typeof row.model_name).toBe('string');
    expect((await queryRecords(audit, schema, table, { model: row.model_name })).rows.map((r) => r.id)).toEqual([row.id]);
  }
  expect(rows.find((r) => r.request_id === 'odd-path-0')!.model_name).toBe('a\ufffdb');
  expect(rows.find((r) => r.request_id === 'odd-path-2')!.model_name).toBe('😀'.repeat(1000));
  expect((await verifyLog(audit, schema, table)).ok).toBe(true);
});
