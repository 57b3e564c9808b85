// Property-based: whatever arrives, no built-in mapper throws, pollutes a prototype, or returns
// something the sink cannot store as JSON.
import fc from 'fast-check';
import { PROTOCOL_NAMES, type ProtocolName } from '../src/protocol';
import { runMapper } from '../src/protocols/run';
import { contentCoding, decodeBody } from '../src/decode/body';
import type { MapperInput } from '../src/protocols/mapper';
import { detectAndMap } from '../src/protocols/detect';
import { mapKserveV1 } from '../src/protocols/kserve-v1';
import { mapOipV2 } from '../src/protocols/oip-v2/map';
import { mapOpenAi, mapOpenAiChat, mapOpenAiCompletion, mapOpenAiEmbedding } from '../src/protocols/openai/map';
import { mapRaw } from '../src/protocols/raw';
import { hostileBinary, hostileBody, hostileStream } from './support/payload-arbitraries';

const MAPPERS = {
  auto: detectAndMap,
  'oip-v2': mapOipV2,
  'kserve-v1': mapKserveV1,
  openai: mapOpenAi,
  'openai-chat': mapOpenAiChat,
  'openai-completion': mapOpenAiCompletion,
  'openai-embedding': mapOpenAiEmbedding,
  raw: mapRaw,
};
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

function input(
  request: Buffer,
  response: Buffer,
  extra: { requestHeaders?: Record<string, string>; responseHeaders?: Record<string, string>; status?: number; cap?: number } = {},
): MapperInput {
  const cap = extra.cap ?? 1 << 20;
  const requestHeaders = { 'content-type': 'application/json', ...extra.requestHeaders };
  const responseHeaders: Record<string, string> = { 'content-type': 'application/json', ...extra.responseHeaders };
  return {
    request: decodeBody(request.subarray(0, cap), requestHeaders, request.length > cap, cap),
    response: decodeBody(response.subarray(0, cap), responseHeaders, response.length > cap, cap),
    status: extra.status ?? 200,
    method: 'POST',
    path: '/v1/models/m:explain',
    params: { model: 'm' },
    requestHeaders,
    responseHeaders,
    responseCoding: contentCoding(responseHeaders['content-encoding']),
    responseWrites: [{ offset: 0, bytes: response.length, ms: 1 }],
    maxBodyBytes: cap,
  };
}

const prototypeKeys = () => [Object.prototype, Array.prototype, Function.prototype].map((p) => Object.getOwnPropertyNames(p).sort().join());
const before = prototypeKeys();

/** Runs every mapper on the input; each must return storable fields without throwing. */
function mapsSafely(made: MapperInput): void {
  for (const [name, mapper] of Object.entries(MAPPERS)) {
    let fields: ReturnType<typeof mapper>;
    try {
      fields = mapper(made);
    } catch (err) {
      throw new Error(`mapper ${name} threw: ${(err as Error).stack}`);
    }
    expect(typeof JSON.stringify(fields)).toBe('string');
    expect(typeof fields.protocol).toBe('string');
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

afterAll(() => {
  expect(prototypeKeys()).toEqual(before);
});

test('every protocol name has a mapper under test', () => {
  expect(Object.keys(MAPPERS).sort()).toEqual([...PROTOCOL_NAMES].sort());
});

test('random and protocol-shaped JSON, truncated JSON and random bytes, as request and response, any status', () => {
  fc.assert(
    fc.property(
      hostileBody,
      hostileBody,
      fc.constantFrom(200, 201, 400, 404, 500),
      fc.constantFrom(64, 1 << 20),
      (request, response, status, cap) => {
        mapsSafely(input(request, response, { status, cap }));
      },
    ),
    { numRuns: RUNS },
  );
});

test('event streams of random chunks, error frames, [DONE] and cuts', () => {
  fc.assert(
    fc.property(hostileBody, hostileStream, (request, stream) => {
      mapsSafely(input(request, stream, { responseHeaders: { 'content-type': 'text/event-stream' } }));
    }),
    { numRuns: RUNS },
  );
});

test('binary-framed bodies with wrong header lengths and sizes', () => {
  fc.assert(
    fc.property(hostileBinary, hostileBinary, fc.constantFrom(32, 1 << 20), (request, response, cap) => {
      mapsSafely(
        input(request.body, response.body, {
          cap,
          requestHeaders: { 'inference-header-content-length': request.headerLength },
          responseHeaders: { 'inference-header-content-length': response.headerLength },
        }),
      );
    }),
    { numRuns: RUNS },
  );
});

test('__proto__ keys are kept as data, never become prototypes', () => {
  const hostile =
    '{"__proto__":{"polluted":1},"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1],"__proto__":{"polluted":2}}],"parameters":{"__proto__":{"polluted":3}}}';
  const fields = mapOipV2(input(Buffer.from(hostile), Buffer.from('{"model_name":"m","outputs":[],"__proto__":{"polluted":4}}')));
  expect(JSON.stringify(fields.inputs)).toContain('"__proto__":{"polluted":2}');
  expect(JSON.stringify(fields.parameters)).toContain('"__proto__":{"polluted":3}');
  const stream =
    'data: {"choices":[{"index":0,"delta":{"__proto__":"x","content":"a","tool_calls":[{"index":0,"function":{"name":"__proto__","arguments":"{}"}}]}}]}\n\n';
  const chat = mapOpenAiChat(
    input(Buffer.from('{"messages":[],"model":"m","stream":true}'), Buffer.from(stream), {
      responseHeaders: { 'content-type': 'text/event-stream' },
    }),
  );
  expect(JSON.stringify(chat.outputs)).toContain('"__proto__":"x"');
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test('a custom mapper that returns junk is stored safely, each problem named', () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const junk = function junk() {
    return { model_name: { no: 1 }, inputs: circular, usage: () => 10, truncated: [1], colour: 'red', keepRequestBody: 'yes' } as never;
  };
  const { fields, failure } = runMapper(junk, input(Buffer.from('{}'), Buffer.from('{}')));
  expect(failure).toBeNull();
  expect(fields).toEqual({
    protocol: 'junk',
    keepRequestBody: false,
    schema_errors: [
      { part: 'mapper', message: 'custom mapper "junk" returned model_name as object, not a string (stored as null)' },
      {
        part: 'mapper',
        message: expect.stringMatching(/^custom mapper "junk" returned inputs that is not JSON-serialisable \(stored as null\): /),
      },
      { part: 'mapper', message: expect.stringMatching(/^custom mapper "junk" returned usage that is not JSON-serialisable/) },
      { part: 'mapper', message: 'custom mapper "junk" returned truncated that is not a list of strings (ignored)' },
      { part: 'mapper', message: 'custom mapper "junk" returned the unknown field "colour" (ignored)' },
    ],
  });
  const notAnObject = runMapper((() => 'nope') as never, input(Buffer.from('{}'), Buffer.from('{}')));
  expect(notAnObject.failure).toMatch(/returned string, not an object of record fields/);
  expect(notAnObject.fields).toMatchObject({ protocol: 'custom', keepRequestBody: true });
  for (const name of PROTOCOL_NAMES as readonly ProtocolName[])
    expect(runMapper(name, input(Buffer.from('{}'), Buffer.from('{}'))).failure).toBeNull();
});

test('an async custom mapper is refused as one that threw: stored raw, and its rejection never goes unhandled', async () => {
  const unhandled: unknown[] = [];
  const listener = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', listener);
  try {
    const rejecting = async function scorer(): Promise<never> {
      throw new Error('upstream down');
    };
    const { fields, failure } = runMapper(rejecting as never, input(Buffer.from('{"a":1}'), Buffer.from('{}')));
    expect(failure).toMatch(/custom mapper "scorer" failed; the exchange is stored raw: .*returned a Promise: mappers must be synchronous/);
    expect(fields).toMatchObject({ protocol: 'scorer', keepRequestBody: true, schema_errors: [{ part: 'mapper', message: failure }] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', listener);
  }
});
