// `inferlog show`: a streamed OpenAI exchange and an OIP exchange, each with oversight events, reconstructed
// from the log by request id, with the verification of their chains.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import request from 'supertest';
import { rowHash, type ShowResult } from '@inferlog/core/audit';
import { createOpenAiApp } from '../examples/src/openai-chat';
import { createExpressApp } from '../examples/src/express-oip';
import { MODEL } from '../examples/src/model';
import { TINY_MODEL } from '../examples/src/tiny-llm';
import type { InferenceLogMiddleware } from '@inferlog/express';
import { cli } from './cli-helpers';
import { db, dropSchema, endPool, logOptions, oipRequest, settle, uniqueSchema } from './helpers';

const schema = uniqueSchema('cli_show');
let server: Server;
let chatLog: InferenceLogMiddleware;
let oipLog: InferenceLogMiddleware;
let oipApp: ReturnType<typeof createExpressApp>['app'];
let streamed: OpenAI.Chat.ChatCompletion;
const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You answer questions about record keeping.' },
  { role: 'user', content: 'How long are the logs kept?' },
];

const idOf = async (requestId: string): Promise<string> =>
  (await db.one('SELECT id FROM $1:name.inference_log WHERE request_id = $2 LIMIT 1', [schema, requestId])).id;
const showJson = async (key: string): Promise<ShowResult> => {
  const run = await cli(schema, ['show', key, '--json']);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout);
};

beforeAll(async () => {
  const chat = createOpenAiApp(logOptions(schema, { service: 'chat-api', serviceVersion: '2.1.0' }), { tokenDelayMs: 2 });
  chatLog = chat.log!;
  await chatLog.ready();
  server = chat.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const client = new OpenAI({
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    apiKey: 'sk-test-not-stored',
    maxRetries: 0,
  });
  const runner = client.chat.completions.stream(
    { model: TINY_MODEL, messages, temperature: 0.2, stream_options: { include_usage: true } },
    { headers: { 'x-request-id': 'show-stream' } },
  );
  for await (const _chunk of runner) {
    // consume the stream as a client does
  }
  streamed = await runner.finalChatCompletion();
  await settle(chatLog, 1);
  await chatLog.event('show-stream', { type: 'human_review', actor: 'reviewer-7', data: { decision: 'confirmed' } });
  await chatLog.event(await idOf('show-stream'), { type: 'feedback', data: { helpful: true } });

  const oip = createExpressApp(logOptions(schema, { service: 'credit-api', serviceVersion: '1.4.0' }));
  oipLog = oip.log!;
  oipApp = oip.app;
  await request(oipApp)
    .post(`/v2/models/${MODEL.name}/infer`)
    .set('x-request-id', 'show-oip')
    .send({ ...oipRequest([52, 0.31, 6, 0], 'application-7781'), parameters: { channel: 'web' } })
    .expect(200);
  await settle(oipLog, 1);
  await oipLog.event('show-oip', { type: 'override', actor: 'reviewer-9', data: { from: 0.4, to: 0.1, reason: 'income verified' } });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await chatLog.close();
  await oipLog.close();
  await dropSchema(schema);
  await endPool();
});

test('a streamed OpenAI chat completion: the reassembled answer, usage with time to first token, its two events, and its chain verifies up to it', async () => {
  const result = await showJson('show-stream');
  expect(result).toMatchObject({ key: 'show-stream', total: 1 });
  const [{ record, events, chain }] = result.inferences;
  expect(record).toMatchObject({
    request_id: 'show-stream',
    service: 'chat-api',
    service_version: '2.1.0',
    method: 'POST',
    route: '/v1/chat/completions',
    path: '/v1/chat/completions',
    status: 200,
    aborted: false,
    protocol: 'openai-chat',
    model_name: TINY_MODEL,
    inference_id: streamed.id,
    parameters: { temperature: 0.2, stream: true, stream_options: { include_usage: true } },
    inputs: [{ name: 'messages', datatype: 'BYTES', shape: [2], data: messages, parameters: { content_type: 'json' } }],
    error: null,
    redactions: [],
    truncated: [],
    schema_errors: null,
    request_body: null,
    response_body: null,
  });
  expect(Date.parse(record.ended_at) - Date.parse(record.started_at)).toBeGreaterThanOrEqual(Math.floor(record.latency_ms) - 1);
  const outputs = Object.fromEntries((record.outputs as { name: string; data: unknown[] }[]).map((t) => [t.name, t.data]));
  expect(outputs).toEqual({
    message: [{ role: 'assistant', content: streamed.choices[0].message.content }],
    finish_reason: [streamed.choices[0].finish_reason],
  });
  const usage = record.usage as Record<string, number>;
  expect(usage).toMatchObject({
    input_tokens: streamed.usage!.prompt_tokens,
    output_tokens: streamed.usage!.completion_tokens,
    total_tokens: streamed.usage!.total_tokens,
  });
  expect(usage.time_to_first_token_ms).toBeGreaterThan(0);
  expect(usage.time_to_first_token_ms).toBeLessThan(record.latency_ms);
  expect(record.response_parameters).toMatchObject({ stream: true, object: 'chat.completion.chunk' });
  expect(record.request_headers).toMatchObject({ 'x-request-id': 'show-stream', 'content-type': 'application/json' });
  expect(JSON.stringify(record)).not.toContain('sk-test-not-stored');
  expect((record.response_headers as Record<string, string>)['content-type']).toMatch(/^text\/event-stream/);
  expect(record.record_hash).toBe(rowHash(record as never));

  expect(events.map((e) => [e.subject, e.type, e.actor, e.data])).toEqual([
    ['show-stream', 'human_review', 'reviewer-7', { decision: 'confirmed' }],
    [record.id, 'feedback', null, { helpful: true }],
  ]);
  expect(events[1].chain_seq).toBe(events[0].chain_seq! + 1);
  expect(chain).toMatchObject({
    table: 'records',
    chain_id: record.chain_id,
    through_seq: record.chain_seq,
    ok: true,
    rows: record.chain_seq,
    problems: [],
  });
  expect(result.event_chains).toEqual([
    { table: 'events', chain_id: events[0].chain_id, through_seq: events[1].chain_seq, ok: true, rows: 2, problems: [] },
  ]);

  // By its id too.
  expect((await showJson(record.id)).inferences.map((i) => i.record.id)).toEqual([record.id]);
});

test('the human output names every part of the inference', async () => {
  const run = await cli(schema, ['show', 'show-stream']);
  expect(run.code).toBe(0);
  for (const part of [
    'Inference ',
    '(request id show-stream)',
    'Identity and timing',
    'started',
    'latency',
    'chat-api 2.1.0',
    'Model',
    TINY_MODEL,
    'openai-chat',
    'Route and status',
    'POST /v1/chat/completions',
    'Request',
    'parameters',
    'inputs',
    'Response',
    'outputs',
    'usage',
    'first token',
    'error',
    'Headers',
    'Record keeping',
    'redactions',
    'truncated',
    'schema errors',
    'Oversight events (2)',
    'human_review by reviewer-7',
    'feedback',
    'Chain',
    'verifies: chain',
    'Event chains',
  ]) {
    expect(run.stdout).toContain(part);
  }
  expect(run.stdout).toContain(streamed.choices[0].message.content!.slice(0, 20));
  expect(run.stdout).not.toContain('DOES NOT VERIFY');
});

test('an OIP exchange: tensors, model and version, parameters, its override event, its chain verifies', async () => {
  const result = await showJson('show-oip');
  const [{ record, events, chain }] = result.inferences;
  expect(record).toMatchObject({
    protocol: 'oip-v2',
    model_name: MODEL.name,
    model_version: MODEL.version,
    inference_id: 'application-7781',
    route: '/v2/models/:model/infer',
    status: 200,
    service: 'credit-api',
    parameters: { channel: 'web' },
    inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [52, 0.31, 6, 0] }],
    outputs: [{ name: 'probability_of_default', shape: [1, 1], datatype: 'FP32' }],
    usage: null,
    error: null,
  });
  expect(record.request_sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(events.map((e) => [e.type, e.actor, e.data])).toEqual([
    ['override', 'reviewer-9', { from: 0.4, to: 0.1, reason: 'income verified' }],
  ]);
  expect(chain).toMatchObject({ ok: true, chain_id: record.chain_id, through_seq: record.chain_seq });
  expect(record.chain_id).not.toBe((await showJson('show-stream')).inferences[0].record.chain_id);

  const text = (await cli(schema, ['show', 'show-oip'])).stdout;
  for (const part of [
    'oip-v2',
    `${MODEL.name} version ${MODEL.version}`,
    'inference id application-7781',
    'probability_of_default',
    'override by reviewer-9',
    'verifies: chain',
  ])
    expect(text).toContain(part);
});

test('rows that share a request id are all shown; an unknown id exits 1', async () => {
  for (let i = 0; i < 2; i++)
    await request(oipApp)
      .post(`/v2/models/${MODEL.name}/infer`)
      .set('x-request-id', 'show-twice')
      .send(oipRequest([40 + i, 0.2, 3, 0]))
      .expect(200);
  await settle(oipLog, 3);
  const result = await showJson('show-twice');
  expect(result.total).toBe(2);
  expect(result.inferences.map((i) => (i.record.inputs as { data: number[] }[])[0].data[0])).toEqual([40, 41]);
  expect(result.inferences.every((i) => i.chain?.ok)).toBe(true);
  const text = await cli(schema, ['show', 'show-twice', '--limit', '1']);
  expect(text.stdout).toContain('2 inferences have request id "show-twice"; the first 1 are shown (--limit)');

  const missing = await cli(schema, ['show', 'no-such-request']);
  expect(missing).toMatchObject({ code: 1, stdout: `no inference with id or request id "no-such-request" in ${schema}.inference_log\n` });
});

test('values a client chose are printed so a terminal shows them, never acts on them: escape sequences and bidi overrides come out as \\u escapes', async () => {
  const express = (await import('express')).default;
  const { inferenceLog } = await import('@inferlog/express');
  const log = inferenceLog(logOptions(schema, { service: 'escape-api' }));
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (req, res) =>
    res.json({ model_name: req.params.model, outputs: [{ name: 'y', shape: [1], datatype: 'FP32', data: [1] }] }),
  );
  // ESC [2J clears the screen, ESC ]0; sets the window title, U+202E reverses the text after it.
  await request(app)
    .post('/v2/models/%1B%5B2J%1B%5D0%3Bpwned%07evil%E2%80%AEtxt.exe/infer')
    .set('x-request-id', 'show-escape')
    .send(oipRequest([1, 2, 3, 4]))
    .expect(200);
  await settle(log, 1);
  await log.event('show-escape', { type: 'human_review', actor: 'rev\u001b[31mred\u009b' });
  await log.close();
  const run = await cli(schema, ['show', 'show-escape']);
  expect(run.code).toBe(0);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters must not reach the terminal
  expect(run.stdout).not.toMatch(/[\u001b\u0007\u009b\u202e]/);
  expect(run.stdout).toContain('\\u001b[2J\\u001b]0;pwned\\u0007evil\\u202etxt.exe');
  expect(run.stdout).toContain('human_review by rev\\u001b[31mred\\u009b');
});
