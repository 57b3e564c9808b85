// The official `openai` npm client against the example OpenAI-compatible server: what the client
// received (normal, streamed, several choices, tool calls, cut off) is what the log holds.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { createOpenAiApp } from '../examples/src/openai-chat';
import { TINY_MODEL } from '../examples/src/tiny-llm';
import type { InferenceLogMiddleware } from '@inferlog/express';
import { dropSchema, endPool, logOptions, storedRow, uniqueSchema, type StoredRow } from './helpers';

const schema = uniqueSchema('openai');
let server: Server;
let log: InferenceLogMiddleware;
let client: OpenAI;
let captured = 0;

const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You answer questions about record keeping.' },
  { role: 'user', content: 'How long are the logs kept?' },
];
const rowOf = (requestId: string) => storedRow(log, schema, requestId, ++captured);
const outputsOf = (row: StoredRow): Record<string, unknown[]> =>
  Object.fromEntries(row.outputs.map((t: { name: string; data: unknown[] }) => [t.name, t.data]));

beforeAll(async () => {
  const made = createOpenAiApp(logOptions(schema), { tokenDelayMs: 2 });
  log = made.log!;
  await log.ready();
  server = made.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  client = new OpenAI({
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    apiKey: 'sk-test-not-stored',
    maxRetries: 0,
  });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await log.close();
  await dropSchema(schema);
  await endPool();
});

test('a normal completion: the stored message, finish reason, usage and ids are what the client received', async () => {
  const completion = await client.chat.completions.create(
    { model: TINY_MODEL, messages, temperature: 0.3, max_tokens: 40 },
    { headers: { 'x-request-id': 'oa-plain' } },
  );
  const row = await rowOf('oa-plain');
  expect(row).toMatchObject({
    protocol: 'openai-chat',
    model_name: TINY_MODEL,
    inference_id: completion.id,
    status: 200,
    route: '/v1/chat/completions',
  });
  expect(outputsOf(row)).toEqual({ message: [completion.choices[0].message], finish_reason: [completion.choices[0].finish_reason] });
  expect(row.inputs).toEqual([{ name: 'messages', datatype: 'BYTES', shape: [2], data: messages, parameters: { content_type: 'json' } }]);
  expect(row.parameters).toEqual({ temperature: 0.3, max_tokens: 40 });
  expect(row.usage).toEqual({
    input_tokens: completion.usage!.prompt_tokens,
    output_tokens: completion.usage!.completion_tokens,
    total_tokens: completion.usage!.total_tokens,
  });
  expect(row.request_headers.authorization).toBeUndefined();
  expect(JSON.stringify(row)).not.toContain('sk-test-not-stored');
});

test('stream: true: the reassembled message equals what the client accumulated, usage from the last chunk, time to first token', async () => {
  const runner = client.chat.completions.stream(
    { model: TINY_MODEL, messages, stream_options: { include_usage: true } },
    { headers: { 'x-request-id': 'oa-stream' } },
  );
  let chunks = 0;
  for await (const _chunk of runner) chunks++;
  const final = await runner.finalChatCompletion();
  const row = await rowOf('oa-stream');
  const out = outputsOf(row);
  expect(out.message).toEqual([{ role: 'assistant', content: final.choices[0].message.content }]);
  expect(out.finish_reason).toEqual([final.choices[0].finish_reason]);
  expect(row.inference_id).toBe(final.id);
  expect(row.usage).toMatchObject({
    input_tokens: final.usage!.prompt_tokens,
    output_tokens: final.usage!.completion_tokens,
    total_tokens: final.usage!.total_tokens,
  });
  expect(row.usage.time_to_first_token_ms).toBeGreaterThan(0);
  expect(row.usage.time_to_first_token_ms).toBeLessThan(row.latency_ms);
  expect(row.response_parameters).toMatchObject({ stream: true, stream_events: chunks, object: 'chat.completion.chunk' });
  expect(row.parameters).toEqual({ stream: true, stream_options: { include_usage: true } });
  expect(row.truncated).toEqual([]);
  expect(row.response_body).toBeNull();
});

test('two choices and a streamed tool call are reassembled per choice and per call', async () => {
  const two = client.chat.completions.stream({ model: TINY_MODEL, messages, n: 2 }, { headers: { 'x-request-id': 'oa-n2' } });
  const final = await two.finalChatCompletion();
  const row = await rowOf('oa-n2');
  expect(outputsOf(row).message).toEqual(final.choices.map((c) => ({ role: 'assistant', content: c.message.content })));
  expect(final.choices[0].message.content).not.toEqual(final.choices[1].message.content);

  const tools: OpenAI.Chat.ChatCompletionTool[] = [
    { type: 'function', function: { name: 'search_logs', parameters: { type: 'object', properties: { query: { type: 'string' } } } } },
  ];
  const call = client.chat.completions.stream({ model: TINY_MODEL, messages, tools }, { headers: { 'x-request-id': 'oa-tool' } });
  const withTool = await call.finalChatCompletion();
  const toolRow = await rowOf('oa-tool');
  const [message] = outputsOf(toolRow).message as { tool_calls: unknown[] }[];
  expect(message.tool_calls).toEqual(
    withTool.choices[0].message.tool_calls!.map(({ id, type, function: fn }) => ({
      id,
      type,
      function: { name: fn.name, arguments: fn.arguments },
    })),
  );
  expect(JSON.parse((withTool.choices[0].message.tool_calls![0] as { function: { arguments: string } }).function.arguments)).toEqual({
    query: 'How long are the logs kept?',
  });
  expect(outputsOf(toolRow).finish_reason).toEqual(['tool_calls']);
  expect(toolRow.inputs.map((t: { name: string }) => t.name)).toEqual(['messages', 'tools']);
});

test('a stream the client abandons midway is stored as what was sent, marked response_stream and aborted', async () => {
  const stream = await client.chat.completions.create(
    { model: TINY_MODEL, messages, stream: true, max_tokens: 200 },
    { headers: { 'x-request-id': 'oa-cut' } },
  );
  let received = '';
  let n = 0;
  for await (const chunk of stream) {
    received += chunk.choices[0]?.delta?.content ?? '';
    if (++n === 4) break; // leaving the loop aborts the request
  }
  const row = await rowOf('oa-cut');
  const [message] = outputsOf(row).message as { content: string }[];
  expect(message.content.startsWith(received)).toBe(true);
  expect(received.length).toBeGreaterThan(0);
  expect(outputsOf(row).finish_reason).toEqual([null]);
  expect(row.truncated).toContain('response_stream');
  expect(row.aborted).toBe(true);
});

test('an error from the API (unknown model) lands in error with the OpenAI fields', async () => {
  await expect(client.chat.completions.create({ model: 'gpt-nope', messages }, { headers: { 'x-request-id': 'oa-404' } })).rejects.toThrow(
    /does not exist/,
  );
  const row = await rowOf('oa-404');
  expect(row.status).toBe(404);
  expect(row.error).toEqual({
    status: 404,
    message: "The model 'gpt-nope' does not exist",
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
  });
  expect(row.model_name).toBe('gpt-nope');
});
