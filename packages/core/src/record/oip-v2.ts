import { errorFromBody, isObject, stringOrNull, type MappedFields, type Mapper } from './mapped';

/**
 * Open Inference Protocol (KServe V2) REST: the request's `id`, `parameters`, `inputs` and the response's
 * `model_name`, `model_version`, `id`, `parameters`, `outputs`; errors are `{"error": "..."}`.
 * A payload that is not OIP-shaped is kept raw, with the reason in `schema_errors`.
 */
export const mapOipV2: Mapper = ({ request, response, status, params }) => {
  const out: MappedFields = {
    protocol: 'oip-v2',
    model_name: params.model ?? null,
    model_version: params.version ?? null,
  };
  const schemaErrors: unknown[] = [];
  const req = request.json;
  if (isObject(req) && Array.isArray(req.inputs)) {
    out.inference_id = stringOrNull(req.id);
    out.parameters = isObject(req.parameters) ? req.parameters : null;
    out.inputs = req.inputs;
  } else {
    out.keepRequestBody = true;
    if (!request.truncated && request.text !== null) {
      schemaErrors.push({ part: 'request', message: request.parseError ?? 'not an OIP inference request: "inputs" must be an array' });
    }
  }

  const res = response.json;
  if (status !== null && status >= 400) {
    out.error = errorFromBody(response, status);
    if (!(isObject(res) && typeof res.error === 'string')) out.keepResponseBody = response.text !== null;
  } else if (isObject(res) && Array.isArray(res.outputs)) {
    out.outputs = res.outputs;
    out.response_parameters = isObject(res.parameters) ? res.parameters : null;
    out.model_name = stringOrNull(res.model_name) ?? out.model_name;
    out.model_version = stringOrNull(res.model_version) ?? out.model_version;
    out.inference_id = stringOrNull(res.id) ?? out.inference_id ?? null;
  } else {
    out.keepResponseBody = true;
    if (!response.truncated && response.text !== null) {
      schemaErrors.push({ part: 'response', message: response.parseError ?? 'not an OIP inference response: "outputs" must be an array' });
    }
  }
  if (schemaErrors.length > 0) out.schema_errors = schemaErrors;
  return out;
};
