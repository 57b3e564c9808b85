// JSON Schemas of the Open Inference Protocol REST payloads, written from kserve/open-inference-protocol
// specification/protocol/inference_rest.md ($inference_request, $request_input, $request_output,
// $inference_response, $response_output, $inference_error_response, $parameters). Element types of
// `data` against `datatype` and `shape` are checked by tensor-data.ts, which is faster on big tensors.
import { schemaValidator } from '../validate';

/** The tensor datatypes of the spec's "Tensor Data Types" table, plus Triton's BF16. */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
  'BF16',
] as const;

/** The datatypes whose elements are numbers (BOOL as true/false, read as 1 and 0): all but BYTES. */
export const NUMERIC_DATATYPES: ReadonlySet<string> = new Set(DATATYPES.filter((d) => d !== 'BYTES'));
export type Datatype = (typeof DATATYPES)[number];

// $parameter = $string : $string | $number | $boolean
const parameters = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } };
/** Parameters of the binary tensor data extension, which have one type. */
const binaryFlags = { ...parameters, properties: { binary_data: { type: 'boolean' }, binary_data_output: { type: 'boolean' } } };

const shape = { type: 'array', items: { type: 'integer', minimum: 0 } };

/** A tensor with data: `data` is required unless the binary extension carries it (`parameters.binary_data_size`). */
const tensor = {
  type: 'object',
  required: ['name', 'shape', 'datatype'],
  properties: { name: { type: 'string' }, shape, datatype: { enum: DATATYPES }, parameters, data: { type: 'array' } },
  if: {
    required: ['parameters'],
    properties: { parameters: { type: 'object', required: ['binary_data_size'], properties: { binary_data_size: {} } } },
  },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, read by ajv, never awaited
  then: { properties: { parameters: { type: 'object', properties: { binary_data_size: { type: 'integer', minimum: 0 } } } } },
  else: { required: ['data'] },
};

export const validateRequest = schemaValidator({
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string' },
    parameters: binaryFlags,
    inputs: { type: 'array', items: tensor },
    outputs: {
      type: 'array',
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, parameters: binaryFlags } },
    },
  },
});

export const validateResponse = schemaValidator({
  type: 'object',
  required: ['model_name', 'outputs'],
  properties: {
    model_name: { type: 'string' },
    model_version: { type: 'string' },
    id: { type: 'string' },
    parameters,
    outputs: { type: 'array', items: tensor },
  },
});

export const validateError = schemaValidator({
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' } },
});
