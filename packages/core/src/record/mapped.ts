import type { DecodedBody } from './decode';

/** What a protocol mapper is given: both bodies decoded, plus the HTTP facts it may need. */
export interface MapperInput {
  request: DecodedBody;
  response: DecodedBody;
  status: number | null;
  /** Parameters of the matched route pattern (`model`, `version`, …). */
  params: Record<string, string>;
}

/** The record fields a protocol mapper fills. Anything left out stays null. */
export interface MappedFields {
  protocol: string;
  model_name?: string | null;
  model_version?: string | null;
  inference_id?: string | null;
  parameters?: unknown;
  inputs?: unknown;
  outputs?: unknown;
  response_parameters?: unknown;
  usage?: unknown;
  error?: unknown;
  schema_errors?: unknown[];
  /** Keep the raw request text in `request_body` (set when the payload could not be mapped). */
  keepRequestBody?: boolean;
  /** Keep the raw response text in `response_body`. */
  keepResponseBody?: boolean;
}

export type Mapper = (input: MapperInput) => MappedFields;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
}

/** The message of a typical error body: `{"error": "..."}`, `{"error": {"message": "..."}}`, `{"message": "..."}` or text. */
export function errorFromBody(body: DecodedBody, status: number | null): Record<string, unknown> {
  const json = body.json;
  let message: string | null = null;
  if (isObject(json)) {
    const err = json.error;
    message = typeof err === 'string' ? err : isObject(err) ? stringOrNull(err.message) : stringOrNull(json.message);
  } else if (body.text && !body.text.startsWith('base64:')) {
    message = body.text.slice(0, 1000);
  }
  return { status, message, ...(isObject(json) && !(typeof json.error === 'string' && Object.keys(json).length === 1) ? { body: json } : {}) };
}
