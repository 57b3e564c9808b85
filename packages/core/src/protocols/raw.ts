import { errorFromBody, type Mapper } from './mapper';

/** Payloads inferlog has no mapper for: both bodies are kept as they are (redacted and capped). */
export const mapRaw: Mapper = ({ response, status, params }) => ({
  protocol: 'raw',
  model_name: params.model ?? null,
  model_version: params.version ?? null,
  error: status !== null && status >= 400 ? errorFromBody(response, status) : null,
  keepRequestBody: true,
  keepResponseBody: true,
});
