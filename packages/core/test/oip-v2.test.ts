import { mapOipV2 } from '../src/record/oip-v2';
import type { DecodedBody } from '../src/record/decode';

const body = (json: unknown, text = JSON.stringify(json)): DecodedBody => ({ text, json, parseError: null, truncated: false });

// The request/response pair of the OIP REST spec's inference example (kserve/open-inference-protocol).
const specRequest = {
  id: '42',
  inputs: [
    { name: 'input0', shape: [2, 2], datatype: 'UINT32', data: [1, 2, 3, 4] },
    { name: 'input1', shape: [3], datatype: 'BOOL', data: ['true'] },
  ],
  outputs: [{ name: 'output0' }],
};
const specResponse = { id: '42', outputs: [{ name: 'output0', shape: [3, 2], datatype: 'FP32', data: [1.0, 1.1, 2.0, 2.1, 3.0, 3.1] }] };

test('the spec example maps to inputs, outputs and ids; model from the path', () => {
  const out = mapOipV2({ request: body(specRequest), response: body(specResponse), status: 200, params: { model: 'mymodel' } });
  expect(out).toMatchObject({ protocol: 'oip-v2', model_name: 'mymodel', model_version: null, inference_id: '42', inputs: specRequest.inputs, outputs: specResponse.outputs });
  expect(out.keepRequestBody).toBeFalsy();
  expect(out.schema_errors).toBeUndefined();
});

test('model name and version from the response win over the path', () => {
  const out = mapOipV2({ request: body(specRequest), response: body({ ...specResponse, model_name: 'm2', model_version: '9', parameters: { p: 1 } }), status: 200, params: { model: 'm', version: '1' } });
  expect(out).toMatchObject({ model_name: 'm2', model_version: '9', response_parameters: { p: 1 } });
});

test('an OIP error body lands in error', () => {
  const out = mapOipV2({ request: body(specRequest), response: body({ error: 'model not ready' }), status: 503, params: { model: 'm' } });
  expect(out.error).toEqual({ status: 503, message: 'model not ready' });
  expect(out.keepResponseBody).toBeFalsy();
});

test('payloads that are not OIP are kept raw with schema errors', () => {
  const out = mapOipV2({ request: { text: '{bad', json: undefined, parseError: 'not valid JSON: x', truncated: false }, response: body({ foo: 1 }), status: 200, params: {} });
  expect(out.keepRequestBody).toBe(true);
  expect(out.keepResponseBody).toBe(true);
  expect(out.schema_errors).toEqual([
    { part: 'request', message: 'not valid JSON: x' },
    { part: 'response', message: 'not an OIP inference response: "outputs" must be an array' },
  ]);
});
