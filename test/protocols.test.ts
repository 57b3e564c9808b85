// Every protocol's payloads, taken from its own documentation (test/fixtures/protocols/*/SOURCES.md),
// sent through real Express and Koa apps; each stored row is read back and checked field by field.
import { PassThrough } from 'node:stream';
import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import {
  DEFAULT_ROUTES,
  inferenceLog as expressLog,
  type InferenceLogMiddleware as ExpressLog,
  type LoggerControls,
  type Mapper,
  type RouteSpec,
} from '@inferlog/express';
import { inferenceLog as koaLog, type InferenceLogMiddleware as KoaLog } from '@inferlog/koa';
import { fixture } from '../packages/core/test/support/mapper-input';
import { dropSchema, endPool, logOptions, storedRow, uniqueSchema } from './helpers';

/** What the app answers: a status, headers and a body, or SSE events written one by one. */
interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  events?: string[];
}

const logs: LoggerControls[] = [];
const schemas: string[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A custom mapper, as docs/protocols.md shows: a scoring API with its own JSON. */
const scoringMapper: Mapper = function creditScore({ request, response, params }) {
  const req = request.json as { applicant?: { income?: number; debts?: number } } | undefined;
  const res = response.json as { score?: number; model?: string } | undefined;
  return {
    model_name: res?.model ?? params.model ?? null,
    inputs: [{ name: 'applicant', datatype: 'FP64', shape: [2], data: [req?.applicant?.income ?? null, req?.applicant?.debts ?? null] }],
    outputs: [{ name: 'score', datatype: 'FP64', shape: [1], data: [res?.score ?? null] }],
  };
};
const brokenMapper: Mapper = function brokenMapper() {
  throw new Error('mapper bug');
};
const routes: RouteSpec[] = [
  ...DEFAULT_ROUTES,
  { path: '/score/:model', protocol: scoringMapper },
  { path: '/broken', protocol: brokenMapper },
  '/auto/*rest',
];

function split(text: string): string[] {
  return text.split(/(?<=\n\n)/).filter(Boolean);
}

function expressApp(log: ExpressLog, replies: Map<string, Reply>) {
  const app = express();
  app.use(log);
  app.use(express.json(), express.raw({ type: 'application/octet-stream' }));
  app.use(async (req, res) => {
    const reply = replies.get(String(req.headers['x-request-id']))!;
    res.status(reply.status ?? 200);
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    if (reply.events) {
      for (const event of reply.events) {
        res.write(event);
        await sleep(2);
      }
      res.end();
    } else {
      res.send(Buffer.isBuffer(reply.body) || typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    }
  });
  return app.listen(0);
}

function koaApp(log: KoaLog, replies: Map<string, Reply>) {
  const app = new Koa();
  app.use(log);
  app.use(async (ctx) => {
    for await (const _chunk of ctx.req); // the app reads the raw stream itself
    const reply = replies.get(String(ctx.get('x-request-id')))!;
    ctx.status = reply.status ?? 200;
    ctx.set(reply.headers ?? {});
    if (reply.events) {
      const stream = new PassThrough();
      ctx.body = stream;
      void (async () => {
        for (const event of reply.events!) {
          stream.write(event);
          await sleep(2);
        }
        stream.end();
      })();
    } else {
      ctx.body = Buffer.isBuffer(reply.body) || typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    }
  });
  return app.listen(0);
}

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  for (const schema of schemas) await dropSchema(schema);
  await endPool();
});

/** Each framework's app with its inferlog middleware in front. */
const FRAMEWORKS = {
  express: (options: Parameters<typeof expressLog>[0], replies: Map<string, Reply>) => {
    const log = expressLog(options);
    return { log, server: expressApp(log, replies) };
  },
  koa: (options: Parameters<typeof koaLog>[0], replies: Map<string, Reply>) => {
    const log = koaLog(options);
    return { log, server: koaApp(log, replies) };
  },
};

describe.each(['express', 'koa'] as const)('%s', (framework) => {
  const replies = new Map<string, Reply>();
  const errors: string[] = [];
  let log: LoggerControls;
  let server: ReturnType<typeof expressApp>;
  let sent = 0;
  const schema = uniqueSchema(`protocols_${framework}`);
  schemas.push(schema);

  beforeAll(async () => {
    ({ log, server } = FRAMEWORKS[framework](logOptions(schema, { routes, onError: (e) => errors.push(e.message) }), replies));
    logs.push(log);
    await log.ready();
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Sends a request the app answers with `reply`, and returns its stored row. */
  async function rowIn(path: string, id: string, body: unknown, reply: Reply, headers: Record<string, string> = {}) {
    const requestId = `${framework}-${id}`;
    replies.set(requestId, {
      ...reply,
      headers: { 'content-type': reply.events ? 'text/event-stream' : 'application/json', ...reply.headers },
    });
    const payload = Buffer.isBuffer(body) ? body : JSON.stringify(body);
    await request(server)
      .post(path)
      .set({ 'content-type': 'application/json', 'x-request-id': requestId, ...headers })
      .send(payload)
      .expect(reply.status ?? 200);
    return storedRow(log, schema, requestId, ++sent);
  }

  test('OIP v2: the spec request, stored field by field; its shape mismatch in schema_errors', async () => {
    const body = fixture('oip/spec-infer-request.json');
    const response = {
      model_name: 'mymodel',
      model_version: '2',
      id: '42',
      outputs: [{ name: 'output0', shape: [3, 2], datatype: 'FP32', data: [1, 1.1, 2, 2.1, 3, 3.1] }],
    };
    const row = await rowIn('/v2/models/mymodel/infer', 'oip', body, { body: response });
    expect(row).toMatchObject({
      protocol: 'oip-v2',
      route: '/v2/models/:model/infer',
      model_name: 'mymodel',
      model_version: '2',
      inference_id: '42',
      status: 200,
      inputs: body.inputs,
      outputs: response.outputs,
      parameters: { requested_outputs: [{ name: 'output0' }] },
      response_parameters: null,
      schema_errors: [{ part: 'request', path: '/inputs/1/data', message: 'has 1 elements; shape [3] needs 3' }],
      request_body: null,
      response_body: null,
      error: null,
      usage: null,
      truncated: [],
    });
  });

  test('OIP v2 binary tensor data: a hand-built request and response are stored decoded', async () => {
    const json = Buffer.from(JSON.stringify(fixture('oip/binary-request-header.json')));
    const tensors = Buffer.concat([Buffer.from(new Uint32Array([10, 20, 30, 40]).buffer), Buffer.from([0, 1, 0])]);
    const outJson = Buffer.from(JSON.stringify({ model_name: 'mymodel', ...fixture('oip/binary-response-header.json') }));
    const outTensor = Buffer.from(new Float32Array([0.5, 1.5, 2.5, 3.5, 4.5, 5.5]).buffer);
    const row = await rowIn(
      '/v2/models/mymodel/infer',
      'oip-binary',
      Buffer.concat([json, tensors]),
      {
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(outJson.length) },
        body: Buffer.concat([outJson, outTensor]),
      },
      { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
    );
    expect(row.inputs.map((t: { data: unknown }) => t.data)).toEqual([
      [10, 20, 30, 40],
      [false, true, false],
    ]);
    expect(row.outputs[0]).toEqual({
      name: 'output0',
      shape: [3, 2],
      datatype: 'FP32',
      parameters: { binary_data_size: 24 },
      data: [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
    });
    expect(row).toMatchObject({
      protocol: 'oip-v2',
      model_name: 'mymodel',
      schema_errors: null,
      request_body: null,
      response_body: null,
      request_bytes: String(json.length + tensors.length),
    });
  });

  test('KServe v1: sklearn iris predict and a TrustyAI explanation', async () => {
    const predict = await rowIn(
      '/v1/models/sklearn-iris:predict',
      'kserve-predict',
      fixture('kserve-v1/sklearn-iris.predict.request.json'),
      { body: fixture('kserve-v1/sklearn-iris.predict.response.json') },
    );
    expect(predict).toMatchObject({
      protocol: 'kserve-v1',
      route: '/v1/models/:model:predict',
      model_name: 'sklearn-iris',
      inputs: [
        {
          name: 'instances',
          datatype: 'FP64',
          shape: [2, 4],
          data: [
            [6.8, 2.8, 4.8, 1.4],
            [6.0, 3.4, 4.5, 1.6],
          ],
        },
      ],
      outputs: [{ name: 'predictions', datatype: 'INT64', shape: [2], data: [1, 1] }],
      schema_errors: null,
      request_body: null,
      response_body: null,
    });
    const explanation = fixture('kserve-v1/trustyai-housing.explain.response.json');
    const explain = await rowIn(
      '/v1/models/housing:explain',
      'kserve-explain',
      fixture('kserve-v1/trustyai-housing.explain.request.json'),
      { body: explanation },
    );
    expect(explain).toMatchObject({
      protocol: 'kserve-v1',
      route: '/v1/models/:model:explain',
      model_name: 'housing',
      outputs: [{ name: 'explanations', data: [explanation] }],
    });
  });

  test('OpenAI chat with tools, and its error body', async () => {
    const body = fixture('openai/chat.tools.request.json');
    const response = fixture('openai/chat.tools.response.json');
    const row = await rowIn('/v1/chat/completions', 'chat-tools', body, { body: response });
    expect(row).toMatchObject({
      protocol: 'openai-chat',
      model_name: 'gpt-4o-mini',
      inference_id: 'chatcmpl-abc123',
      parameters: { tool_choice: 'auto' },
      inputs: [
        { name: 'messages', data: body.messages },
        { name: 'tools', data: body.tools },
      ],
      outputs: [
        { name: 'message', data: [response.choices[0].message] },
        { name: 'finish_reason', data: ['tool_calls'] },
      ],
      usage: { input_tokens: 82, output_tokens: 17, total_tokens: 99, output_tokens_details: { reasoning_tokens: 0 } },
      response_parameters: { object: 'chat.completion', created: 1699896916 },
      schema_errors: null,
    });
    const failed = await rowIn('/v1/chat/completions', 'chat-401', fixture('openai/chat.request.json'), {
      status: 401,
      body: fixture('openai/error.invalid-api-key.401.response.json'),
    });
    expect(failed.error).toMatchObject({ status: 401, type: 'invalid_request_error', code: 'invalid_api_key', param: null });
    expect(failed.outputs).toBeNull();
  });

  test('OpenAI chat streamed (a stream recorded from api.openai.com, written event by event)', async () => {
    const stream: string = fixture('openai/chat.stream.tool-call.sse');
    const row = await rowIn(
      '/v1/chat/completions',
      'chat-stream',
      { ...fixture('openai/chat.stream.request.json'), stream_options: { include_usage: true } },
      { events: split(stream) },
    );
    expect(row.outputs).toEqual([
      {
        name: 'message',
        datatype: 'BYTES',
        shape: [1],
        parameters: { content_type: 'json' },
        data: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_5uxEBMFySqqQGu02I5QHA8k6',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"New York City"}' },
              },
            ],
          },
        ],
      },
      { name: 'finish_reason', datatype: 'BYTES', shape: [1], data: ['tool_calls'] },
    ]);
    expect(row.usage).toMatchObject({ input_tokens: 44, output_tokens: 16, total_tokens: 60 });
    expect(row.usage.time_to_first_token_ms).toBeGreaterThan(0);
    expect(row).toMatchObject({
      inference_id: 'chatcmpl-9tXjtfxZZh2FYaFVxXKf2jiqNDiSo',
      model_name: 'gpt-4o-2024-08-06',
      truncated: [],
      response_body: null,
      schema_errors: null,
    });
  });

  test('OpenAI completions and embeddings', async () => {
    const completion = await rowIn('/v1/completions', 'completion', fixture('openai/completion.request.json'), {
      body: fixture('openai/completion.response.json'),
    });
    expect(completion).toMatchObject({
      protocol: 'openai-completion',
      inputs: [{ name: 'prompt', data: ['Say this is a test'] }],
      parameters: { max_tokens: 7, temperature: 0 },
      outputs: [
        { name: 'text', data: ['\n\nThis is indeed a test'] },
        { name: 'finish_reason', data: ['length'] },
      ],
    });
    const embedding = await rowIn('/v1/embeddings', 'embedding', fixture('openai/embeddings.request.json'), {
      body: fixture('openai/embeddings.response.json'),
    });
    expect(embedding).toMatchObject({
      protocol: 'openai-embedding',
      model_name: 'text-embedding-ada-002',
      outputs: [{ name: 'embedding', datatype: 'FP32', shape: [1, 3], data: [[0.0023064255, -0.009327292, -0.0028842222]] }],
      usage: { input_tokens: 8, total_tokens: 8 },
    });
  });

  test('a custom mapper maps its own JSON; one that throws leaves a raw row and an E_RECORD report', async () => {
    const row = await rowIn(
      '/score/credit-v3',
      'custom',
      { applicant: { income: 52000, debts: 3 } },
      { body: { score: 0.82, model: 'credit-v3' } },
    );
    expect(row).toMatchObject({
      protocol: 'creditScore',
      model_name: 'credit-v3',
      request_body: null,
      inputs: [{ name: 'applicant', data: [52000, 3] }],
      outputs: [{ name: 'score', data: [0.82] }],
    });
    const broken = await rowIn('/broken', 'broken', { a: 1 }, { body: { b: 2 } });
    expect(broken).toMatchObject({
      protocol: 'brokenMapper',
      request_body: '{"a":1}',
      response_body: '{"b":2}',
      schema_errors: [{ part: 'mapper', message: 'the custom mapper "brokenMapper" failed; the exchange is stored raw: mapper bug' }],
    });
    expect(errors.some((m) => m.includes(`request id ${framework}-broken`) && m.includes('mapper bug'))).toBe(true);
  });

  test('routes without a protocol tell it by the payload: OIP, OpenAI, KServe v1, else raw', async () => {
    const oip = await rowIn('/auto/a', 'auto-oip', fixture('oip/triton-request-with-parameters.json'), {
      body: { model_name: 'x', outputs: [] },
    });
    const chat = await rowIn('/auto/b', 'auto-chat', fixture('openai/chat.request.json'), { body: fixture('openai/chat.response.json') });
    const kserve = await rowIn('/auto/c', 'auto-kserve', fixture('kserve-v1/sklearn-iris.predict.request.json'), {
      body: fixture('kserve-v1/sklearn-iris.predict.response.json'),
    });
    const raw = await rowIn('/auto/d', 'auto-raw', { hello: 'world' }, { body: { ok: true } });
    expect([oip.protocol, chat.protocol, kserve.protocol, raw.protocol]).toEqual(['oip-v2', 'openai-chat', 'kserve-v1', 'raw']);
    expect(raw).toMatchObject({ request_body: '{"hello":"world"}', response_body: '{"ok":true}', schema_errors: null });
  });
});
