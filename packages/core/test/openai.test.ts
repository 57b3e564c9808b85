import { mapOpenAi, mapOpenAiChat, mapOpenAiCompletion, mapOpenAiEmbedding } from '../src/protocols/openai/map';
import { parseSse } from '../src/protocols/openai/sse';
import { reassembleStream } from '../src/protocols/openai/stream';
import { fixture, mapperInput } from './support/mapper-input';

// Payloads from the OpenAI API reference (openai/openai-openapi) and streams recorded from api.openai.com
// (openai/openai-python test snapshots): test/fixtures/protocols/openai/SOURCES.md.
const SSE = { 'content-type': 'text/event-stream' };

describe('OpenAI chat completions', () => {
  test("the reference's chat request and response map to messages, message, finish_reason, usage", () => {
    const request = fixture('openai/chat.request.json');
    const response = fixture('openai/chat.response.json');
    const out = mapOpenAiChat(mapperInput({ request, response }));
    expect(out).toEqual({
      protocol: 'openai-chat',
      model_name: 'gpt-4o-mini',
      model_version: null,
      inference_id: 'chatcmpl-123',
      inputs: [{ name: 'messages', datatype: 'BYTES', shape: [2], data: request.messages, parameters: { content_type: 'json' } }],
      parameters: null,
      outputs: [
        { name: 'message', datatype: 'BYTES', shape: [1], data: [response.choices[0].message], parameters: { content_type: 'json' } },
        { name: 'finish_reason', datatype: 'BYTES', shape: [1], data: ['stop'] },
      ],
      response_parameters: { object: 'chat.completion', created: 1677652288, system_fingerprint: 'fp_44709d6fcb' },
      usage: { input_tokens: 9, output_tokens: 12, total_tokens: 21, output_tokens_details: { reasoning_tokens: 0 } },
    });
  });

  test('tools are an input tensor, tool_choice and sampling settings parameters; tool calls land in the message', () => {
    const request = { ...fixture('openai/chat.tools.request.json'), temperature: 0.2, max_tokens: 100, user: 'u-1' };
    const response = fixture('openai/chat.tools.response.json');
    const out = mapOpenAiChat(mapperInput({ request, response }));
    expect(out.inputs).toEqual([
      { name: 'messages', datatype: 'BYTES', shape: [1], data: request.messages, parameters: { content_type: 'json' } },
      { name: 'tools', datatype: 'BYTES', shape: [1], data: request.tools, parameters: { content_type: 'json' } },
    ]);
    expect(out.parameters).toEqual({ tool_choice: 'auto', temperature: 0.2, max_tokens: 100, user: 'u-1' });
    expect((out.outputs as any[])[0].data[0].tool_calls[0].function).toEqual({
      name: 'get_current_weather',
      arguments: '{\n"location": "Boston, MA"\n}',
    });
    expect((out.outputs as any[])[1].data).toEqual(['tool_calls']);
    expect(out.schema_errors).toBeUndefined();
  });

  test('a recorded stream is reassembled: content, finish reason, usage from the final chunk, time to first token', () => {
    const stream: string = fixture('openai/chat.stream.content.sse');
    const input = mapperInput({ request: fixture('openai/chat.stream.request.json'), response: stream, responseHeaders: SSE });
    // The server wrote each event by itself, 2 ms apart; the first token is in the second event.
    const starts = parseSse(stream).map((e) => Buffer.byteLength(stream.slice(0, e.start)));
    input.responseWrites = starts.map((offset, i) => ({
      offset,
      bytes: (starts[i + 1] ?? Buffer.byteLength(stream)) - offset,
      ms: 10 + 2 * i,
    }));
    const out = mapOpenAiChat(input);
    expect(out.outputs).toEqual([
      {
        name: 'message',
        datatype: 'BYTES',
        shape: [1],
        parameters: { content_type: 'json' },
        data: [
          {
            role: 'assistant',
            content:
              "I'm unable to provide real-time updates, including current weather information. For the latest weather in San Francisco, I recommend checking a reliable weather website or app such as the Weather Channel, BBC Weather, or a local San Francisco news station.",
          },
        ],
      },
      { name: 'finish_reason', datatype: 'BYTES', shape: [1], data: ['stop'] },
    ]);
    expect(out).toMatchObject({
      inference_id: 'chatcmpl-9tXjg9DdaOfymTPDrSLfxslQEH0C2',
      model_name: 'gpt-4o-2024-08-06',
      parameters: { stream: true },
      usage: { input_tokens: 14, output_tokens: 47, total_tokens: 61, time_to_first_token_ms: 12 },
      response_parameters: {
        object: 'chat.completion.chunk',
        created: 1723024748,
        system_fingerprint: 'fp_845eaabc1f',
        stream: true,
        stream_events: 50,
      },
    });
    expect(out.truncated).toBeUndefined();
    expect(out.schema_errors).toBeUndefined();
  });

  test('parallel tool calls are merged by their index, arguments concatenated', () => {
    const out = mapOpenAiChat(
      mapperInput({
        request: { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true },
        response: fixture('openai/chat.stream.parallel-tool-calls.sse'),
        responseHeaders: SSE,
      }),
    );
    const [message] = (out.outputs as any[])[0].data;
    expect(message.tool_calls).toEqual([
      {
        id: 'call_lQnnsesjFMWMQ5IeWPHzR4th',
        type: 'function',
        function: { name: 'GetWeatherArgs', arguments: '{"city": "Edinburgh", "country": "UK", "units": "c"}' },
      },
      {
        id: 'call_2xjOUgaCdiwAcl9ZBL9LyMUU',
        type: 'function',
        function: { name: 'get_stock_price', arguments: '{"ticker": "AAPL", "exchange": "NASDAQ"}' },
      },
    ]);
    expect(message.content).toBeNull();
    expect((out.outputs as any[])[1].data).toEqual(['tool_calls']);
    expect(out.usage).toEqual({ input_tokens: 149, output_tokens: 60, total_tokens: 209 });
  });

  test('a stream cut off midway keeps what arrived and is marked response_stream in truncated', () => {
    const full: string = fixture('openai/chat.stream.content.sse');
    const cut = full.slice(0, full.indexOf('" to"') + 40); // inside the fourth event's JSON
    const out = mapOpenAiChat(mapperInput({ request: fixture('openai/chat.stream.request.json'), response: cut, responseHeaders: SSE }));
    expect((out.outputs as any[])[0].data).toEqual([{ role: 'assistant', content: "I'm unable" }]);
    expect((out.outputs as any[])[1].data).toEqual([null]);
    expect(out.truncated).toEqual(['response_stream']);
    expect(out.schema_errors).toBeUndefined();
  });

  test.each([
    [
      'event: error frame',
      'stream-error.event-error.constructed.sse',
      { message: 'Internal server error', type: 'server_error', param: null, code: null },
    ],
    [
      'vLLM error frame after content',
      'stream-error.mid-stream.constructed.sse',
      { message: 'Internal server error', type: 'InternalServerError', param: null, code: 500 },
    ],
    [
      'legacy vLLM error frame',
      'stream-error.vllm-legacy.constructed.sse',
      { object: 'error', message: 'Internal server error', type: 'InternalServerError', param: null, code: 500 },
    ],
  ])('an error inside a stream (%s) lands in error; the stream is not called truncated', (_name, file, error) => {
    const out = mapOpenAiChat(
      mapperInput({ request: fixture('openai/chat.stream.request.json'), response: fixture(`openai/${file}`), responseHeaders: SSE }),
    );
    expect(out.error).toEqual({ status: 200, ...error });
    expect(out.truncated).toBeUndefined();
  });

  test('an event: error frame whose data is plain text lands in error as its message', () => {
    const stream =
      'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}\n\nevent: error\ndata: upstream timeout\n\n';
    const out = mapOpenAiChat(mapperInput({ request: fixture('openai/chat.stream.request.json'), response: stream, responseHeaders: SSE }));
    expect(out.error).toEqual({ status: 200, message: 'upstream timeout' });
    expect(out.schema_errors).toBeUndefined();
    expect((out.outputs as { data: { content: string }[] }[])[0].data[0]).toEqual({ role: 'assistant', content: 'Hel' });
  });

  test("the HTTP status stays the error's status; a provider's own status is kept as provider_status", () => {
    const body = { error: { code: 400, message: 'Invalid JSON payload', status: 'INVALID_ARGUMENT' } };
    const out = mapOpenAiChat(mapperInput({ request: fixture('openai/chat.request.json'), response: body, status: 400 }));
    expect(out.error).toEqual({ status: 400, message: 'Invalid JSON payload', provider_status: 'INVALID_ARGUMENT', code: 400 });
  });

  test('an error body lands in error with message, type, param and code', () => {
    const out = mapOpenAiChat(
      mapperInput({
        request: fixture('openai/chat.request.json'),
        response: fixture('openai/error.invalid-api-key.401.response.json'),
        status: 401,
      }),
    );
    expect(out.error).toEqual({
      status: 401,
      message: expect.stringMatching(/^Incorrect API key provided/),
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    });
    expect(out.outputs).toBeUndefined();
    expect(out.keepResponseBody).toBeFalsy();
  });

  test('requests that are not valid chat requests are stored with schema errors', () => {
    const out = mapOpenAiChat(
      mapperInput({ request: { messages: [{ content: 'no role' }], temperature: 7 }, response: fixture('openai/chat.response.json') }),
    );
    expect(out.schema_errors).toEqual(
      expect.arrayContaining([
        { part: 'request', path: '/', message: "must have required property 'model'" },
        { part: 'request', path: '/temperature', message: 'must be <= 2' },
        { part: 'request', path: '/messages/0', message: "must have required property 'role'" },
      ]),
    );
    expect(out.inputs).toEqual([expect.objectContaining({ name: 'messages', data: [{ content: 'no role' }] })]);
  });
});

describe('OpenAI completions and embeddings', () => {
  test("the reference's completion maps prompt, text, finish_reason, usage", () => {
    const out = mapOpenAiCompletion(
      mapperInput({ request: fixture('openai/completion.request.json'), response: fixture('openai/completion.response.json') }),
    );
    expect(out).toMatchObject({
      protocol: 'openai-completion',
      model_name: 'VAR_model_id',
      inference_id: 'cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7',
      inputs: [{ name: 'prompt', datatype: 'BYTES', shape: [1], data: ['Say this is a test'] }],
      parameters: { max_tokens: 7, temperature: 0 },
      outputs: [
        { name: 'text', datatype: 'BYTES', shape: [1], data: ['\n\nThis is indeed a test'] },
        { name: 'finish_reason', datatype: 'BYTES', shape: [1], data: ['length'] },
      ],
      usage: { input_tokens: 5, output_tokens: 7, total_tokens: 12 },
    });
    expect(out.schema_errors).toBeUndefined();
  });

  test('a streamed completion concatenates text per choice', () => {
    const chunk = (index: number, text: string, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ index, text, logprobs: null, finish_reason: finish }] })}\n\n`;
    const stream = `${chunk(0, 'Hel', null) + chunk(1, 'Bon', null) + chunk(0, 'lo', 'stop') + chunk(1, 'jour', 'length')}data: [DONE]\n\n`;
    const out = mapOpenAiCompletion(
      mapperInput({ request: { model: 'm', prompt: ['a', 'b'], n: 2, stream: true }, response: stream, responseHeaders: SSE }),
    );
    expect(out.outputs).toEqual([
      { name: 'text', datatype: 'BYTES', shape: [2], data: ['Hello', 'Bonjour'] },
      { name: 'finish_reason', datatype: 'BYTES', shape: [2], data: ['stop', 'length'] },
    ]);
    expect(out.inputs).toEqual([{ name: 'prompt', datatype: 'BYTES', shape: [2], data: ['a', 'b'] }]);
  });

  test("the reference's embedding maps input and an FP32 [n, dims] output", () => {
    const response = fixture('openai/embeddings.response.json');
    const out = mapOpenAiEmbedding(mapperInput({ request: fixture('openai/embeddings.request.json'), response }));
    expect(out).toMatchObject({
      protocol: 'openai-embedding',
      model_name: 'text-embedding-ada-002',
      inputs: [{ name: 'input', datatype: 'BYTES', shape: [1], data: ['The food was delicious and the waiter...'] }],
      parameters: { encoding_format: 'float' },
      outputs: [{ name: 'embedding', datatype: 'FP32', shape: [1, 3], data: [response.data[0].embedding] }],
      usage: { input_tokens: 8, total_tokens: 8 },
      response_parameters: { object: 'list' },
    });
  });

  test('token-array input is INT64; base64 embeddings are decoded to floats', () => {
    const floats = new Float32Array([0.5, -1.25]);
    const base64 = Buffer.from(floats.buffer).toString('base64');
    const out = mapOpenAiEmbedding(
      mapperInput({
        request: { ...fixture('openai/embeddings.token-array-input.request.json'), encoding_format: 'base64' },
        response: {
          object: 'list',
          model: 'm',
          data: [{ object: 'embedding', index: 0, embedding: base64 }],
          usage: { prompt_tokens: 5, total_tokens: 5 },
        },
      }),
    );
    expect(out.inputs).toEqual([{ name: 'input', datatype: 'INT64', shape: [1, 5], data: [[1212, 318, 257, 1332, 13]] }]);
    expect(out.outputs).toEqual([{ name: 'embedding', datatype: 'FP32', shape: [1, 2], data: [[0.5, -1.25]] }]);
  });

  test('the generic openai mapper tells the endpoint by the payload', () => {
    expect(
      mapOpenAi(mapperInput({ request: fixture('openai/completion.request.json'), response: fixture('openai/completion.response.json') }))
        .protocol,
    ).toBe('openai-completion');
    expect(
      mapOpenAi(mapperInput({ request: fixture('openai/embeddings.request.json'), response: fixture('openai/embeddings.response.json') }))
        .protocol,
    ).toBe('openai-embedding');
    expect(
      mapOpenAi(mapperInput({ request: fixture('openai/chat.request.json'), response: fixture('openai/chat.response.json') })).protocol,
    ).toBe('openai-chat');
  });
});

describe('server-sent events', () => {
  test('parses fields, comments, multi-line data, CRLF, and a last event cut off', () => {
    const text = ': keep-alive\r\nevent: a\r\ndata: 1\r\ndata:2\r\n\r\ndata: {"x":\n\ndata: tail';
    expect(parseSse(text)).toEqual([
      { event: 'a', data: '1\n2', start: 14, complete: true },
      { event: null, data: '{"x":', start: 43, complete: true },
      { event: null, data: 'tail', start: 56, complete: false },
    ]);
  });

  test('a frame that is not JSON is a schema error; the rest is still reassembled', () => {
    const stream =
      'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\ndata: nonsense\n\ndata: {"choices":[{"index":0,"delta":{"content":"b"},"finish_reason":"stop"}]}\n\n';
    const result = reassembleStream(stream);
    expect(result.choices).toEqual([{ index: 0, message: { role: 'assistant', content: 'ab' }, finish_reason: 'stop', logprobs: null }]);
    expect(result.complete).toBe(true);
    expect(result.schemaErrors).toEqual([{ part: 'response', message: 'event 1 is not valid JSON' }]);
  });

  test('a stream cut by the size cap inside a multi-byte character keeps everything before it', () => {
    const event = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
    const stream = Buffer.from(event('Grüße ') + event('日本語のテキスト') + event('end'));
    const cap = stream.indexOf(Buffer.from('本')) + 1; // cuts 本 after its first byte
    const out = mapOpenAiChat(
      mapperInput({ request: { model: 'm', messages: [], stream: true }, response: stream, responseHeaders: SSE, cap }),
    );
    expect((out.outputs as any[])[0].data).toEqual([{ role: 'assistant', content: 'Grüße ' }]);
    expect(out.truncated).toEqual(['response_stream']);
  });

  test('audio pieces, logprobs and server-specific choice fields are merged; a string error frame is the message', () => {
    const chunks = [
      {
        choices: [
          {
            index: 0,
            delta: { role: 'assistant', audio: { id: 'a1', transcript: 'Hel', data: 'AA' } },
            logprobs: { content: [{ token: 'Hel' }] },
          },
        ],
      },
      {
        choices: [
          {
            index: 0,
            delta: { audio: { transcript: 'lo', data: 'BB' } },
            logprobs: { content: [{ token: 'lo' }] },
            content_filter_results: { hate: { filtered: false } },
          },
        ],
      },
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop', stop_reason: 42 }] },
    ];
    const stream = `${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('')}data: [DONE]\n\n`;
    const out = mapOpenAiChat(mapperInput({ request: { model: 'm', messages: [], stream: true }, response: stream, responseHeaders: SSE }));
    const byName = Object.fromEntries((out.outputs as any[]).map((t) => [t.name, t.data]));
    expect(byName.message).toEqual([{ role: 'assistant', content: null, audio: { id: 'a1', transcript: 'Hello', data: 'AABB' } }]);
    expect(byName.logprobs).toEqual([{ content: [{ token: 'Hel' }, { token: 'lo' }] }]);
    expect(byName.choice_details).toEqual([{ content_filter_results: { hate: { filtered: false } }, stop_reason: 42 }]);
    const failed = mapOpenAiChat(
      mapperInput({
        request: { model: 'm', messages: [], stream: true },
        response: 'data: {"error":"model overloaded"}\n\n',
        responseHeaders: SSE,
      }),
    );
    expect(failed.error).toEqual({ status: 200, message: 'model overloaded' });
  });

  test('choice indexes that are objects with a toString do not throw', () => {
    const out = mapOpenAiChat(
      mapperInput({
        request: { model: 'm', messages: [] },
        response: { choices: [{ index: { toString: 1 }, message: { role: 'assistant', content: 'x' } }] },
      }),
    );
    expect((out.outputs as any[])[0].data).toEqual([{ role: 'assistant', content: 'x' }]);
  });
});

describe('streams: review findings', () => {
  const chunk = (choice: object, extra: object = {}) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [choice], ...extra })}\n\n`;
  const finished =
    chunk({ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }) +
    chunk({ index: 0, delta: {}, finish_reason: 'stop' });
  const usage = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } })}\n\n`;
  const map = (request: object, response: string) =>
    mapOpenAiChat(
      mapperInput({
        request: { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true, ...request },
        response,
        responseHeaders: SSE,
      }),
    );

  test('cut after the finish_reason but before the usage the client asked for: incomplete', () => {
    expect(map({ stream_options: { include_usage: true } }, finished).truncated).toEqual(['response_stream']);
    expect(map({ stream_options: { include_usage: true } }, finished + usage).truncated).toBeUndefined();
    expect(map({ stream_options: { include_usage: true } }, finished + usage).usage).toEqual({
      input_tokens: 3,
      output_tokens: 1,
      total_tokens: 4,
    });
    // Not asked for: every choice finished is a whole stream, [DONE] or not.
    expect(map({}, finished).truncated).toBeUndefined();
  });

  test.each([
    ['a number', 'event: error\ndata: 42\n\n', '42'],
    ['a JSON string', 'event: error\ndata: "overloaded"\n\n', 'overloaded'],
    ['a list', 'event: error\ndata: [1,2]\n\n', '[1,2]'],
    // Found by the mapper fuzz: an integer past 2^53 is parsed exactly (a BigInt), which JSON.stringify refuses.
    ['a list holding an integer past 2^53', 'event: error\ndata: [[-9007199254740993]]\n\n', '[[-9007199254740993]]'],
  ])('an event: error whose data is %s becomes the message, never the stream text', (_kind, frame, message) => {
    const out = map({}, chunk({ index: 0, delta: { role: 'assistant', content: 'secret-looking output' }, finish_reason: null }) + frame);
    expect(out.error).toEqual({ status: 200, message });
  });

  test('tool-call deltas without index (some servers leave it out) are assembled by position and id', () => {
    const call = (piece: object) => chunk({ index: 0, delta: { tool_calls: [piece] }, finish_reason: null });
    const stream =
      call({ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":' } }) +
      call({ function: { arguments: '"Delft"}' } }) +
      call({ id: 'call_2', type: 'function', function: { name: 'time', arguments: '{}' } }) +
      chunk({ index: 0, delta: {}, finish_reason: 'tool_calls' });
    const message = (map({}, stream).outputs as any[])[0].data[0];
    expect(message.tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Delft"}' } },
      { id: 'call_2', type: 'function', function: { name: 'time', arguments: '{}' } },
    ]);
  });
});
