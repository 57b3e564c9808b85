import { withExactIntegers } from './exact-fields';
import { errorFromBody, isObject, omitKeys, stringOrNull, type MappedFields, type Mapper, type SchemaError } from './mapper';
import { tensorOf, type Tensor } from './tensor';

/** `inputs`/`outputs` in TensorFlow's columnar form: a list (one tensor) or an object of named tensors. */
function columnar(name: string, value: unknown): Tensor[] {
  return isObject(value) ? Object.entries(value).map(([key, column]) => tensorOf(key, column)) : [tensorOf(name, value)];
}

/**
 * KServe V1 (`/v1/models/<model>:predict` and `:explain`, TensorFlow Serving's REST API): `instances`
 * (row form) or `inputs` (columnar form) become the input tensors; `predictions`, `explanations` or
 * `outputs` the output tensors, with shape and datatype inferred from the JSON (an explainer's own
 * response object is the `explanations` tensor). Other top-level fields (`signature_name`, …) go to
 * `parameters` and `response_parameters`.
 */
export const mapKserveV1: Mapper = withExactIntegers(({ request, response, status, params, path }) => {
  const out: MappedFields = { protocol: 'kserve-v1', model_name: params.model ?? null, model_version: params.version ?? null };
  const schemaErrors: SchemaError[] = [];

  const req = request.json;
  if (isObject(req) && Array.isArray(req.instances)) {
    out.inputs = [tensorOf('instances', req.instances)];
    out.parameters = omitKeys(req, ['instances']);
  } else if (isObject(req) && req.inputs !== undefined && req.inputs !== null) {
    out.inputs = columnar('inputs', req.inputs);
    out.parameters = omitKeys(req, ['inputs']);
  } else {
    out.keepRequestBody = true;
    if (!request.truncated && request.text !== null) {
      schemaErrors.push({
        part: 'request',
        message: request.parseError ?? 'not a KServe v1 request: it needs "instances" (a list) or "inputs"',
      });
    }
  }

  const res = response.json;
  if (status !== null && status >= 400) {
    out.error = errorFromBody(response, status);
    if (!(isObject(res) && typeof res.error === 'string')) out.keepResponseBody = response.text !== null;
  } else if (isObject(res) && (res.predictions !== undefined || res.explanations !== undefined || res.outputs !== undefined)) {
    out.outputs = [
      ...(res.predictions !== undefined ? [tensorOf('predictions', res.predictions)] : []),
      ...(res.explanations !== undefined ? [tensorOf('explanations', res.explanations)] : []),
      ...(res.outputs !== undefined ? columnar('outputs', res.outputs) : []),
    ];
    out.response_parameters = omitKeys(res, ['predictions', 'explanations', 'outputs', 'model_name', 'model_version', 'id']);
    out.model_name = stringOrNull(res.model_name) ?? out.model_name;
    out.model_version = stringOrNull(res.model_version) ?? out.model_version;
    out.inference_id = stringOrNull(res.id);
  } else if (isObject(res) && /:explain\/?$/.test(path)) {
    // KServe does not enforce the explain response's shape: explainers answer with their own objects
    // (Alibi's anchors, TrustyAI's saliencies), which are the explanation.
    out.outputs = [tensorOf('explanations', res)];
  } else {
    out.keepResponseBody = true;
    if (!response.truncated && response.text !== null) {
      schemaErrors.push({
        part: 'response',
        message: response.parseError ?? 'not a KServe v1 response: it needs "predictions", "explanations" or "outputs"',
      });
    }
  }
  if (schemaErrors.length > 0) out.schema_errors = schemaErrors;
  return out;
});
