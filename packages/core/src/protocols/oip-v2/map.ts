import { withExactIntegers } from '../exact-fields';
import type { DecodedBody } from '../../decode/body';
import { errorFromBody, isObject, stringOrNull, type MappedFields, type Mapper, type SchemaError } from '../mapper';
import { attachBinaryData, type BinaryResult } from './binary';
import { validateError, validateRequest, validateResponse } from './schema';
import { storedBytesData } from '../../stored-bytes';
import { checkTensorData } from './tensor-data';

/** A body's tensors (`inputs` or `outputs`) with binary data decoded, checked against the schema and their datatypes and shapes. */
function readTensors(
  body: DecodedBody,
  json: Record<string, unknown>,
  field: 'inputs' | 'outputs',
  part: string,
  validate: typeof validateRequest,
  budget: number,
): BinaryResult {
  const errors = validate(json, part);
  let tensors = json[field] as unknown[];
  let cut = false;
  if (body.binary) {
    // The JSON header is stored beside the decoded data: both count against the size cap.
    const header = (body.bytes?.length ?? 0) - body.binary.length;
    const binary = attachBinaryData(tensors, body.binary, part, field, body.truncated, Math.max(0, budget - header));
    tensors = binary.tensors;
    cut = binary.cut;
    errors.push(...binary.errors);
  } else if (tensors.some((t) => isObject(t) && isObject(t.parameters) && t.parameters.binary_data_size !== undefined)) {
    errors.push({
      part,
      message: 'tensors have binary_data_size but the body has no Inference-Header-Content-Length header: their data is missing',
    });
  }
  tensors = tensors.map((tensor, i) => {
    // Binary data was decoded by its datatype, and its size checked against the shape already.
    if (!isObject(tensor) || (body.binary && isObject(tensor.parameters) && tensor.parameters.binary_data_size !== undefined))
      return tensor;
    const problem = checkTensorData(tensor, part, `/${field}/${i}`);
    if (problem) errors.push(problem);
    // BYTES strings in the stored form of bytes, as binary BYTES data is (stored-bytes.ts).
    if (tensor.datatype !== 'BYTES' || !Array.isArray(tensor.data)) return tensor;
    const data = storedBytesData(tensor.data);
    return data === tensor.data ? tensor : { ...tensor, data };
  });
  return { tensors, errors, cut };
}

/**
 * Open Inference Protocol (KServe V2) REST: the request's `id`, `parameters`, `inputs` (and requested
 * `outputs`, kept as `parameters.requested_outputs`) and the response's `model_name`, `model_version`,
 * `id`, `parameters`, `outputs`; errors are `{"error": "..."}`. Payloads are validated against the
 * spec's schema; invalid ones are stored as they are with the reasons in `schema_errors`. Binary tensor
 * data is decoded into `data`.
 */
export const mapOipV2: Mapper = withExactIntegers(({ request, response, status, params, maxBodyBytes }) => {
  const out: MappedFields = { protocol: 'oip-v2', model_name: params.model ?? null, model_version: params.version ?? null };
  const schemaErrors: SchemaError[] = [];
  const truncated: string[] = [];

  const req = request.json;
  if (isObject(req) && Array.isArray(req.inputs)) {
    const inputs = readTensors(request, req, 'inputs', 'request', validateRequest, maxBodyBytes);
    schemaErrors.push(...inputs.errors);
    if (inputs.cut) truncated.push('inputs');
    out.inputs = inputs.tensors;
    out.inference_id = stringOrNull(req.id);
    const parameters = isObject(req.parameters) ? req.parameters : null;
    out.parameters = Array.isArray(req.outputs) ? { ...parameters, requested_outputs: req.outputs } : parameters;
  } else {
    out.keepRequestBody = true;
    // A binary body without a JSON header (header length 0) is raw tensor bytes, not a malformed request.
    if (!request.truncated && request.text !== null && !(request.binary !== null && request.binary.length === request.bytes?.length)) {
      schemaErrors.push({ part: 'request', message: request.parseError ?? 'not an OIP inference request: "inputs" must be an array' });
    }
  }

  const res = response.json;
  if (status !== null && status >= 400) {
    out.error = errorFromBody(response, status);
    if (isObject(res)) schemaErrors.push(...validateError(res, 'response'));
    if (!(isObject(res) && typeof res.error === 'string')) out.keepResponseBody = response.text !== null;
  } else if (isObject(res) && Array.isArray(res.outputs)) {
    const outputs = readTensors(response, res, 'outputs', 'response', validateResponse, maxBodyBytes);
    schemaErrors.push(...outputs.errors);
    if (outputs.cut) truncated.push('outputs');
    out.outputs = outputs.tensors;
    out.response_parameters = isObject(res.parameters) ? res.parameters : null;
    out.model_name = stringOrNull(res.model_name) ?? out.model_name;
    out.model_version = stringOrNull(res.model_version) ?? out.model_version;
    const requestId = out.inference_id ?? null;
    out.inference_id = stringOrNull(res.id) ?? requestId;
    if (requestId !== null && typeof res.id === 'string' && res.id !== requestId) {
      schemaErrors.push({ part: 'response', path: '/id', message: "differs from the request's id, which the response must echo" });
    }
  } else if (isObject(res) && typeof res.error === 'string') {
    // An OIP error body sent with a success status: still an error, and a fault of the server.
    out.error = errorFromBody(response, status);
    schemaErrors.push({ part: 'response', message: `an error response must have an error status, not ${status ?? 'none'}` });
  } else {
    out.keepResponseBody = true;
    if (!response.truncated && response.text !== null) {
      schemaErrors.push({ part: 'response', message: response.parseError ?? 'not an OIP inference response: "outputs" must be an array' });
    }
  }
  if (schemaErrors.length > 0) out.schema_errors = schemaErrors;
  if (truncated.length > 0) out.truncated = truncated;
  return out;
});
