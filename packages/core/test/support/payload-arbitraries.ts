// fast-check generators of hostile payloads for the protocol mappers: random JSON with the keys the
// mappers look for (and __proto__), protocol-shaped payloads with wrong types and huge shapes,
// truncated JSON, event streams and binary-framed bodies.
import fc from 'fast-check';

const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'id',
  'inputs',
  'outputs',
  'data',
  'shape',
  'datatype',
  'name',
  'parameters',
  'binary_data_size',
  'instances',
  'predictions',
  'explanations',
  'messages',
  'role',
  'content',
  'choices',
  'delta',
  'tool_calls',
  'index',
  'function',
  'arguments',
  'usage',
  'error',
  'model',
  'prompt',
  'input',
  'embedding',
  'stream',
  'finish_reason',
  'object',
];
const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom('BOOL', 'UINT8', 'INT64', 'FP16', 'FP32', 'BYTES', 'BF16', 'nope', '', 'assistant', 'user', '[DONE]'),
  fc.string({ maxLength: 12 }),
);

/** Random JSON whose objects use the keys the mappers read, `__proto__` among them. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 6 }),
  ),
})).value;

const dim = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: -3, max: 2 ** 53 }), fc.constant(2 ** 31), fc.double());
const tensor = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 6 }), scalar),
    datatype: fc.oneof(fc.constantFrom('BOOL', 'UINT8', 'INT8', 'UINT64', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES', 'BF16'), scalar),
    shape: fc.oneof(fc.array(dim, { maxLength: 4 }), hostileJson),
    data: fc.oneof(fc.array(fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })), { maxLength: 8 }), hostileJson),
    parameters: fc.oneof(
      fc.dictionary(key, scalar, { maxKeys: 3 }),
      fc.record({ binary_data_size: fc.oneof(fc.integer({ min: -1, max: 64 }), scalar) }),
    ),
  },
  { requiredKeys: [] },
);

/** OIP-, KServe-v1- and OpenAI-shaped payloads with wrong types, huge shapes and odd keys. */
export const protocolShaped: fc.Arbitrary<unknown> = fc.oneof(
  fc.record(
    { id: scalar, inputs: fc.array(tensor, { maxLength: 3 }), outputs: fc.array(tensor, { maxLength: 2 }), parameters: hostileJson },
    { requiredKeys: ['inputs'] },
  ),
  fc.record({ model_name: scalar, outputs: fc.array(tensor, { maxLength: 3 }), ['__proto__']: hostileJson }, { requiredKeys: ['outputs'] }),
  fc.record({ instances: fc.oneof(fc.array(hostileJson, { maxLength: 4 }), hostileJson), inputs: hostileJson }, { requiredKeys: [] }),
  fc.record({ predictions: hostileJson, explanations: hostileJson, outputs: hostileJson }, { requiredKeys: [] }),
  fc.record(
    { model: scalar, messages: fc.oneof(fc.array(hostileJson, { maxLength: 3 }), hostileJson), tools: hostileJson, stream: fc.boolean() },
    { requiredKeys: ['messages'] },
  ),
  fc.record(
    {
      id: scalar,
      object: fc.constantFrom('chat.completion', 'text_completion', 'list'),
      choices: fc.array(hostileJson, { maxLength: 3 }),
      data: fc.array(hostileJson, { maxLength: 3 }),
      usage: hostileJson,
    },
    { requiredKeys: ['object'] },
  ),
);

/** A body as bytes: JSON (random or protocol-shaped), that JSON cut short, or random bytes. */
export const hostileBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc.oneof(hostileJson, protocolShaped).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc.tuple(protocolShaped, fc.nat()).map(([value, cut]) => {
    const text = JSON.stringify(value) ?? '';
    return Buffer.from(text.slice(0, cut % (text.length + 1)));
  }),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
);

/** An event stream of random chunks (protocol-shaped and not), `[DONE]` and error frames, possibly cut. */
export const hostileStream: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.array(
      fc.oneof(
        fc.record(
          {
            choices: fc.array(
              fc.record(
                {
                  index: fc.oneof(fc.integer({ min: -2, max: 3 }), scalar),
                  delta: hostileJson,
                  text: scalar,
                  finish_reason: scalar,
                  logprobs: hostileJson,
                },
                { requiredKeys: [] },
              ),
              { maxLength: 3 },
            ),
            usage: hostileJson,
            id: scalar,
            model: scalar,
          },
          { requiredKeys: [] },
        ),
        hostileJson,
      ),
      { maxLength: 8 },
    ),
    fc.constantFrom(
      '',
      'data: [DONE]\n\n',
      'event: error\ndata: {"error":{"message":"x"}}\n\n',
      'event: error\ndata: upstream timeout\n\n',
      ': ping\n\n',
    ),
    fc.nat(),
  )
  .map(([chunks, end, cut]) => {
    const text = chunks.map((c) => `data: ${JSON.stringify(c) ?? 'null'}\n\n`).join('') + end;
    return Buffer.from(text.slice(0, text.length - (cut % 20)));
  });

const binaryTensor = fc.record({
  name: fc.string({ maxLength: 4 }),
  datatype: fc.constantFrom(
    'BOOL',
    'UINT8',
    'INT8',
    'UINT16',
    'INT16',
    'FP16',
    'BF16',
    'UINT32',
    'INT32',
    'FP32',
    'UINT64',
    'INT64',
    'FP64',
    'BYTES',
    'nope',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
  ),
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  parameters: fc.record({
    binary_data_size: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 24 }) }, { weight: 1, arbitrary: scalar }),
  }),
});

/**
 * A binary-framed body: a JSON header whose tensors claim binary data (or a protocol-shaped one), of a
 * stated length that is usually right, then random bytes of about the claimed size.
 */
export const hostileBinary: fc.Arbitrary<{ body: Buffer; headerLength: string }> = fc
  .tuple(
    fc.oneof(
      fc.record({ inputs: fc.array(binaryTensor, { maxLength: 4 }) }),
      fc.record({ model_name: fc.constant('m'), outputs: fc.array(binaryTensor, { maxLength: 4 }) }),
      protocolShaped,
    ),
    fc.uint8Array({ maxLength: 96 }),
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.oneof(fc.integer({ min: -5, max: 400 }), fc.string({ maxLength: 4 })) },
    ),
  )
  .map(([header, tail, stated]) => {
    const json = Buffer.from(JSON.stringify(header) ?? '');
    return { body: Buffer.concat([json, tail]), headerLength: stated === null ? String(json.length) : String(stated) };
  });
