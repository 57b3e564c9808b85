import { mapOipV2 } from '../src/protocols/oip-v2/map';
import { fixture, mapperInput } from './support/mapper-input';

// Payloads from the OIP REST spec (kserve/open-inference-protocol specification/protocol/inference_rest.md),
// Triton's binary-data and parameters extensions and KServe's binary tensor docs: test/fixtures/protocols/oip/SOURCES.md.
const validResponse = {
  model_name: 'mymodel',
  model_version: '1',
  id: '42',
  outputs: [{ name: 'output0', shape: [3, 2], datatype: 'FP32', data: [1.0, 1.1, 2.0, 2.1, 3.0, 3.1] }],
};

describe('OIP v2 JSON payloads', () => {
  test("the spec's inference request maps field by field, and its BOOL input with 1 element for shape [3] is a schema error", () => {
    const request = fixture('oip/spec-infer-request.json');
    const out = mapOipV2(mapperInput({ request, response: validResponse, params: { model: 'mymodel' } }));
    expect(out).toEqual({
      protocol: 'oip-v2',
      model_name: 'mymodel',
      model_version: '1',
      inference_id: '42',
      inputs: request.inputs,
      parameters: { requested_outputs: [{ name: 'output0' }] },
      outputs: validResponse.outputs,
      response_parameters: null,
      schema_errors: [{ part: 'request', path: '/inputs/1/data', message: 'has 1 elements; shape [3] needs 3' }],
    });
  });

  test("the spec's response example lacks the required model_name: stored, with the schema error", () => {
    const response = fixture('oip/spec-infer-response.json');
    const out = mapOipV2(
      mapperInput({ request: fixture('oip/triton-request-with-parameters.json'), response, params: { model: 'mymodel' } }),
    );
    expect(out.outputs).toEqual(response.outputs);
    expect(out.model_name).toBe('mymodel');
    expect(out.schema_errors).toEqual([{ part: 'response', path: '/', message: "must have required property 'model_name'" }]);
  });

  test('request parameters (Triton parameters extension) and requested outputs land in parameters', () => {
    const out = mapOipV2(mapperInput({ request: fixture('oip/triton-request-with-parameters.json'), response: validResponse }));
    expect(out.parameters).toEqual({ my_custom_parameter: 42, requested_outputs: [{ name: 'output0' }] });
    expect(out.inference_id).toBe('42');
    expect(out.schema_errors).toBeUndefined();
  });

  test("the spec's nested and flat forms of a [2, 2] tensor are both valid", () => {
    for (const name of ['nested', 'flat']) {
      const { data } = fixture(`oip/spec-tensor-data-${name}.json`);
      const request = { inputs: [{ name: 'x', shape: [2, 2], datatype: 'INT32', data }] };
      expect(mapOipV2(mapperInput({ request, response: validResponse })).schema_errors).toBeUndefined();
    }
  });

  test.each([
    ['UINT8', [1], [256], '/inputs/0/data/0', 'must be an integer from 0 to 255 for datatype UINT8; got a whole number out of range'],
    ['INT8', [2], [1, -129], '/inputs/0/data/1', 'must be an integer from -128 to 127 for datatype INT8; got a whole number out of range'],
    ['INT32', [1], [1.5], '/inputs/0/data/0', 'must be an integer from -2147483648 to 2147483647 for datatype INT32; got a fraction'],
    ['BOOL', [1], ['true'], '/inputs/0/data/0', 'must be true or false for datatype BOOL; got a string'],
    ['BYTES', [1], [7], '/inputs/0/data/0', 'must be a string for datatype BYTES; got a number'],
    ['FP32', [2], [1, 'x'], '/inputs/0/data/1', 'must be a number for datatype FP32; got a string'],
    ['FP32', [2, 2], [[1, 2], [3]], '/inputs/0/data/1', 'has 1 elements where shape [2,2] has 2 at depth 1'],
    ['FP32', [2, 2], [[1, 2], 3, 4], '/inputs/0/data', 'has 3 elements where shape [2,2] has 2 at depth 0'],
    ['FP64', [3], [1, 2], '/inputs/0/data', 'has 2 elements; shape [3] needs 3'],
  ])('%s data %j %j is a schema error naming the element, never its value', (datatype, shape, data, path, message) => {
    const out = mapOipV2(mapperInput({ request: { inputs: [{ name: 'x', shape, datatype, data }] }, response: validResponse }));
    expect(out.inputs).toEqual([{ name: 'x', shape, datatype, data }]);
    expect(out.schema_errors).toEqual([{ part: 'request', path, message }]);
  });

  test('envelope errors come from the JSON Schema: unknown datatype, bad shape, parameters of the wrong type, missing data', () => {
    const request = {
      id: 7,
      parameters: { nested: { no: 1 } },
      inputs: [
        { name: 'a', shape: [-1], datatype: 'FP8', data: [1] },
        { name: 'b', shape: [1], datatype: 'FP32' },
      ],
    };
    const out = mapOipV2(mapperInput({ request, response: validResponse }));
    expect(out.schema_errors).toEqual(
      expect.arrayContaining([
        { part: 'request', path: '/id', message: 'must be string' },
        { part: 'request', path: '/parameters/nested', message: 'must be string,number,boolean' },
        { part: 'request', path: '/inputs/0/shape/0', message: 'must be >= 0' },
        expect.objectContaining({
          part: 'request',
          path: '/inputs/0/datatype',
          message: expect.stringMatching(/^must be equal to one of the allowed values: "BOOL"/),
        }),
        { part: 'request', path: '/inputs/1', message: "must have required property 'data'" },
      ]),
    );
    expect(out.inputs).toEqual(request.inputs);
  });

  test("an error response is {status, message}; the spec's error example validates", () => {
    const out = mapOipV2(
      mapperInput({ request: fixture('oip/triton-request-with-parameters.json'), response: fixture('oip/spec-error.json'), status: 400 }),
    );
    expect(out.error).toEqual({ status: 400, message: '<error message string>' });
    expect(out.schema_errors).toBeUndefined();
    expect(out.keepResponseBody).toBeFalsy();
    const bad = mapOipV2(
      mapperInput({ request: fixture('oip/triton-request-with-parameters.json'), response: { error: { detail: 'x' } }, status: 500 }),
    );
    expect(bad.schema_errors).toEqual([{ part: 'response', path: '/error', message: 'must be string' }]);
    expect(bad.keepResponseBody).toBe(true);
  });

  test('payloads that are not OIP are kept raw with the reason', () => {
    const out = mapOipV2(mapperInput({ request: '{bad', response: { foo: 1 } }));
    expect(out.keepRequestBody).toBe(true);
    expect(out.keepResponseBody).toBe(true);
    expect(out.schema_errors).toEqual([
      { part: 'request', message: expect.stringMatching(/^not valid JSON/) },
      { part: 'response', message: 'not an OIP inference response: "outputs" must be an array' },
    ]);
  });
});

/** Little-endian bytes of a typed array. */
const le = (array: ArrayBufferView) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
const bytesElement = (value: Buffer | string) => {
  const data = Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(data.length);
  return Buffer.concat([length, data]);
};

/** A body in the binary tensor data extension's framing: the JSON header, then the tensors' bytes. */
function binaryBody(header: unknown, ...tensors: Buffer[]): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, ...tensors]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
  };
}

describe('OIP binary tensor data extension', () => {
  test("Triton's binary request example, with its bytes built by hand, decodes into data", () => {
    const header = fixture('oip/binary-request-header.json');
    const { body, headers } = binaryBody(header, le(new Uint32Array([1, 2, 3, 4])), Buffer.from([1, 0, 1]));
    const out = mapOipV2(mapperInput({ request: body, requestHeaders: headers, response: validResponse, params: { model: 'mymodel' } }));
    expect(out.inputs).toEqual([
      { name: 'input0', shape: [2, 2], datatype: 'UINT32', parameters: { binary_data_size: 16 }, data: [1, 2, 3, 4] },
      { name: 'input1', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 }, data: [true, false, true] },
    ]);
    expect(out.parameters).toEqual({ requested_outputs: [{ name: 'output0', parameters: { binary_data: true } }] });
    expect(out.schema_errors).toBeUndefined();
  });

  test('every datatype decodes: FP16 and BF16 bit patterns, 64-bit integers beyond 2^53, NaN, BYTES with a length prefix', () => {
    const fp16 = Buffer.alloc(8);
    for (const [i, bits] of [0x3c00, 0xc000, 0x7bff, 0x0001].entries()) fp16.writeUInt16LE(bits, i * 2); // 1, -2, 65504, smallest subnormal
    const bf16 = Buffer.alloc(4);
    for (const [i, bits] of [0x3f80, 0x4049].entries()) bf16.writeUInt16LE(bits, i * 2); // 1, 3.140625
    const int64 = Buffer.alloc(16);
    int64.writeBigInt64LE(-5n, 0);
    int64.writeBigInt64LE(2n ** 62n, 8);
    const uint64 = Buffer.alloc(8);
    uint64.writeBigUInt64LE(2n ** 64n - 1n);
    const bytes = Buffer.concat([bytesElement('héllo'), bytesElement(''), bytesElement(Buffer.from([0xff, 0x00]))]);
    const tensors: [string, number[], Buffer][] = [
      ['FP16', [2, 2], fp16],
      ['BF16', [2], bf16],
      ['INT64', [2], int64],
      ['UINT64', [1], uint64],
      ['INT8', [3], le(new Int8Array([-128, 0, 127]))],
      ['UINT16', [2], le(new Uint16Array([0, 65535]))],
      ['INT16', [1], le(new Int16Array([-32768]))],
      ['INT32', [2], le(new Int32Array([-1, 2147483647]))],
      ['UINT8', [2], Buffer.from([0, 255])],
      ['FP32', [3], le(new Float32Array([0.5, Number.NaN, Number.NEGATIVE_INFINITY]))],
      ['FP64', [1], le(new Float64Array([Math.PI]))],
      ['BYTES', [3], bytes],
    ];
    const header = {
      inputs: tensors.map(([datatype, shape, data], i) => ({
        name: `t${i}`,
        datatype,
        shape,
        parameters: { binary_data_size: data.length },
      })),
    };
    const { body, headers } = binaryBody(header, ...tensors.map(([, , data]) => data));
    const out = mapOipV2(mapperInput({ request: body, requestHeaders: headers, response: validResponse }));
    expect((out.inputs as { data: unknown[] }[]).map((t) => t.data)).toEqual([
      [1, -2, 65504, 2 ** -24],
      [1, 3.140625],
      [-5, '4611686018427387904'],
      ['18446744073709551615'],
      [-128, 0, 127],
      [0, 65535],
      [-32768],
      [-1, 2147483647],
      [0, 255],
      [0.5, 'NaN', '-Infinity'],
      [Math.PI],
      ['héllo', '', `base64:${Buffer.from([0xff, 0x00]).toString('base64')}`],
    ]);
    expect(out.schema_errors).toBeUndefined();
  });

  test('a binary response (header from the response) decodes; mixed JSON and binary inputs keep their JSON data', () => {
    const header = fixture('oip/kserve-binary-mixed-request-header.json');
    // The KServe doc's sizes: 16 bytes claimed for FP16 [2, 2], which needs 8 (a schema error; the 8 elements' worth that came are decoded).
    const fp16 = Buffer.alloc(16);
    for (let i = 0; i < 8; i++) fp16.writeUInt16LE(0x3c00, i * 2);
    const request = binaryBody(header, fp16, Buffer.from([0, 1, 1]));
    const response = binaryBody(
      { model_name: 'mymodel', ...fixture('oip/binary-response-header.json') },
      le(new Float32Array([1, 2, 3, 4, 5, 6])),
    );
    const out = mapOipV2(
      mapperInput({ request: request.body, requestHeaders: request.headers, response: response.body, responseHeaders: response.headers }),
    );
    const inputs = out.inputs as { data: unknown }[];
    expect(inputs[0].data).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(inputs[1].data).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(inputs[2].data).toEqual([false, true, true]);
    expect(out.outputs).toEqual([
      { name: 'output0', shape: [3, 2], datatype: 'FP32', parameters: { binary_data_size: 24 }, data: [1, 2, 3, 4, 5, 6] },
    ]);
    expect(out.schema_errors).toEqual([
      { part: 'request', path: '/inputs/0/parameters/binary_data_size', message: 'is 16; shape [2,2] of FP16 needs 8 bytes' },
    ]);
  });

  test('a body cut at the size cap keeps the whole tensors, marks the cut one, and is not a schema error', () => {
    const header = {
      inputs: [
        { name: 'a', shape: [2], datatype: 'INT32', parameters: { binary_data_size: 8 } },
        { name: 'b', shape: [1000], datatype: 'FP64', parameters: { binary_data_size: 8000 } },
      ],
    };
    const { body, headers } = binaryBody(header, le(new Int32Array([7, 8])), le(new Float64Array(1000)));
    const cap = body.length - 4000;
    const out = mapOipV2(mapperInput({ request: body, requestHeaders: headers, response: validResponse, cap }));
    expect(out.inputs).toEqual([
      { ...header.inputs[0], data: [7, 8] },
      { ...header.inputs[1], data: null },
    ]);
    expect(out.truncated).toEqual(['inputs']);
    expect(out.schema_errors).toBeUndefined();
  });

  test('sizes that do not add up are schema errors, never exceptions', () => {
    const header = {
      inputs: [
        { name: 'a', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 6 } },
        { name: 'b', shape: [1], datatype: 'INT32', parameters: { binary_data_size: 'x' } },
      ],
    };
    const { body, headers } = binaryBody(header, Buffer.from([9, 0, 0, 0, 65, 66]));
    const out = mapOipV2(mapperInput({ request: body, requestHeaders: headers, response: validResponse }));
    expect(out.schema_errors).toEqual(
      expect.arrayContaining([
        { part: 'request', path: '/inputs/0', message: 'BYTES data element 0 claims 9 bytes; only 2 remain' },
        { part: 'request', path: '/inputs/1/parameters/binary_data_size', message: 'must be a whole number of bytes' },
      ]),
    );
  });

  test('a raw binary request (Inference-Header-Content-Length: 0) is kept as base64, not called invalid', () => {
    const out = mapOipV2(
      mapperInput({ request: Buffer.from([1, 2, 3]), requestHeaders: { 'inference-header-content-length': '0' }, response: validResponse }),
    );
    expect(out.keepRequestBody).toBe(true);
    expect(out.schema_errors).toBeUndefined();
  });

  test("a size that is not a number of bytes loses the later tensors' data instead of decoding the wrong bytes", () => {
    const header = {
      inputs: [
        { name: 'a', shape: [1], datatype: 'FP32', parameters: { binary_data_size: '4' } },
        { name: 'b', shape: [1], datatype: 'FP32', parameters: { binary_data_size: 4 } },
      ],
    };
    const { body, headers } = binaryBody(header, le(new Float32Array([1.5])), le(new Float32Array([2.5])));
    const out = mapOipV2(mapperInput({ request: body, requestHeaders: headers, response: validResponse }));
    expect((out.inputs as { data: unknown }[]).map((t) => t.data)).toEqual([null, null]);
    expect(out.truncated).toBeUndefined();
    expect(out.schema_errors).toEqual(
      expect.arrayContaining([
        {
          part: 'request',
          path: '/inputs/1',
          message: 'follows a tensor whose binary_data_size is not a number of bytes: its data cannot be found',
        },
      ]),
    );
  });

  test('BYTES elements: counted against the shape; control characters (NUL) kept exactly, as base64', () => {
    const bytes = Buffer.concat([bytesElement('a'), bytesElement(Buffer.from([0x61, 0x00, 0x62])), bytesElement('c')]);
    const header = { inputs: [{ name: 's', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: bytes.length } }] };
    const { body, headers } = binaryBody(header, bytes);
    const out = mapOipV2(mapperInput({ request: body, requestHeaders: headers, response: validResponse }));
    expect((out.inputs as { data: unknown }[])[0].data).toEqual(['a', `base64:${Buffer.from([0x61, 0x00, 0x62]).toString('base64')}`, 'c']);
    expect(out.schema_errors).toEqual([{ part: 'request', path: '/inputs/0', message: 'has 3 BYTES elements; shape [2] needs 2' }]);
  });

  test('data beside binary_data_size, and binary_data_size without binary framing, are schema errors', () => {
    const both = { inputs: [{ name: 'x', shape: [1], datatype: 'INT32', data: [7], parameters: { binary_data_size: 4 } }] };
    const framed = binaryBody(both, le(new Int32Array([8])));
    const out = mapOipV2(mapperInput({ request: framed.body, requestHeaders: framed.headers, response: validResponse }));
    expect(out.schema_errors).toEqual([
      { part: 'request', path: '/inputs/0/data', message: 'must not be given beside binary_data_size (the binary data is stored)' },
    ]);
    expect((out.inputs as { data: unknown }[])[0].data).toEqual([8]);
    const unframed = mapOipV2(
      mapperInput({
        request: { inputs: [{ name: 'x', shape: [1], datatype: 'INT32', parameters: { binary_data_size: 4 } }] },
        response: validResponse,
      }),
    );
    expect(unframed.schema_errors).toEqual([
      {
        part: 'request',
        message: 'tensors have binary_data_size but the body has no Inference-Header-Content-Length header: their data is missing',
      },
    ]);
  });

  test('decoding stops at the size cap in JSON characters: binary data is compact, its JSON is not', () => {
    const header = { inputs: [{ name: 'x', shape: [4096], datatype: 'FP32', parameters: { binary_data_size: 4 * 4096 } }] };
    const { body, headers } = binaryBody(header, le(new Float32Array(4096).fill(0.1)));
    const cap = body.length + 10; // the body fits, its JSON (≈ 4096 × 20 characters) would not
    const out = mapOipV2(mapperInput({ request: body, requestHeaders: headers, response: validResponse, cap }));
    const data = (out.inputs as { data: unknown[] }[])[0].data;
    expect(data.length).toBeGreaterThan(0);
    expect(data.length).toBeLessThan(4096);
    expect(JSON.stringify(data).length).toBeLessThanOrEqual(cap);
    expect(out.truncated).toEqual(['inputs']);
    expect(out.schema_errors).toBeUndefined();
  });
});

describe('OIP binary tensor data: hostile headers', () => {
  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'a datatype named %s is refused, and a BYTES tensor after it still stops at the size cap',
    (datatype) => {
      const text = 'x'.repeat(1000);
      const elements = Buffer.concat(Array.from({ length: 100 }, () => bytesElement(text)));
      const header = {
        inputs: [
          { name: 'a', shape: [1], datatype, parameters: { binary_data_size: 4 } },
          { name: 's', shape: [100], datatype: 'BYTES', parameters: { binary_data_size: elements.length } },
        ],
      };
      const { body, headers } = binaryBody(header, Buffer.alloc(4), elements);
      const cap = 20_000;
      const out = mapOipV2(
        mapperInput({ request: body.subarray(0, cap), requestHeaders: headers, response: validResponse, cap: body.length }),
      );
      expect(out.schema_errors).toEqual(
        expect.arrayContaining([
          { part: 'request', path: '/inputs/0/datatype', message: 'is not a datatype whose binary data can be decoded' },
        ]),
      );
      const full = mapOipV2(mapperInput({ request: body, requestHeaders: headers, response: validResponse, cap: cap }));
      const inputs = full.inputs as { data: unknown[] | null }[];
      expect(inputs[0].data).toBeNull();
      expect(JSON.stringify(inputs[1].data ?? []).length).toBeLessThanOrEqual(cap);
      expect(full.truncated).toEqual(['inputs']);
      expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('binary_data_size');
    },
  );

  test('the BYTES budget counts characters as stored: quotes and backslashes take two each', () => {
    const text = '"\\'.repeat(300); // 900 characters, 1800 once escaped in JSON
    const elements = Buffer.concat(Array.from({ length: 50 }, () => bytesElement(text)));
    const header = { inputs: [{ name: 's', shape: [50], datatype: 'BYTES', parameters: { binary_data_size: elements.length } }] };
    const { body, headers } = binaryBody(header, elements);
    const cap = body.length; // the body fits; its escaped JSON (≈ 90,000 characters) does not
    const out = mapOipV2(mapperInput({ request: body, requestHeaders: headers, response: validResponse, cap }));
    const data = (out.inputs as { data: unknown[] }[])[0].data;
    expect(data.length).toBeGreaterThan(0);
    expect(data.length).toBeLessThan(50);
    expect(JSON.stringify(data).length).toBeLessThanOrEqual(cap);
    expect(out.truncated).toEqual(['inputs']);
  });
});

test('an OIP error body sent with status 200 is still the error, and a schema error', () => {
  const out = mapOipV2(
    mapperInput({ request: fixture('oip/spec-infer-request.json'), response: { error: 'model is not ready' }, status: 200 }),
  );
  expect(out.error).toEqual({ status: 200, message: 'model is not ready' });
  expect(out.schema_errors).toEqual(
    expect.arrayContaining([{ part: 'response', message: 'an error response must have an error status, not 200' }]),
  );
  expect(out.outputs).toBeUndefined();
});

test("a response id that differs from the request's is a schema error", () => {
  const out = mapOipV2(mapperInput({ request: { id: 'a', inputs: [] }, response: { ...validResponse, id: 'b' } }));
  expect(out.inference_id).toBe('b');
  expect(out.schema_errors).toEqual([
    { part: 'response', path: '/id', message: "differs from the request's id, which the response must echo" },
  ]);
});

describe('review findings', () => {
  test('a payload with a million bad values gets a bounded report: the first schema error, not one per element', () => {
    const shape = Array.from({ length: 1_000_000 }, () => 'x');
    const out = mapOipV2(
      mapperInput({
        request: { inputs: [{ name: 'a', shape, datatype: 'FP32', data: [1] }] },
        response: validResponse,
        cap: 16 * 1024 * 1024,
      }),
    );
    const errors = out.schema_errors as { path?: string }[];
    expect(errors.length).toBeLessThanOrEqual(3);
    expect(errors[0]).toEqual({ part: 'request', path: '/inputs/0/shape/0', message: 'must be integer' });
  });

  test('a binary-framed body whose JSON header does not parse is a schema error, not taken for a raw binary request', () => {
    const json = Buffer.from('{"inputs": [oops]}');
    const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) };
    const out = mapOipV2(
      mapperInput({ request: Buffer.concat([json, Buffer.alloc(8)]), requestHeaders: headers, response: validResponse }),
    );
    expect(out.keepRequestBody).toBe(true);
    expect(out.schema_errors).toEqual([{ part: 'request', message: expect.stringMatching(/^not valid JSON/) }]);
  });

  test('the decoding budget holds for the longest FP64 values and counts the JSON header stored beside them', () => {
    const pad = 'p'.repeat(2000);
    const header = { id: pad, inputs: [{ name: 'x', shape: [512], datatype: 'FP64', parameters: { binary_data_size: 8 * 512 } }] };
    const { body, headers } = binaryBody(header, le(new Float64Array(512).fill(-2.2250738585072014e-308)));
    const cap = body.length + 10;
    const out = mapOipV2(mapperInput({ request: body, requestHeaders: headers, response: validResponse, cap }));
    const data = (out.inputs as { data: unknown[] }[])[0].data;
    expect(data.length).toBeGreaterThan(0);
    expect(JSON.stringify(header).length + JSON.stringify(data).length).toBeLessThanOrEqual(cap);
    expect(out.truncated).toEqual(['inputs']);
  });
});
