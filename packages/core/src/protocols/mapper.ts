import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { textIsBytes, type DecodedBody } from '../decode/body';

export type { DecodedBody };

/** When a part of the response body was written: its first byte's offset in the body and the time since the request arrived. */
export interface ResponseWrite {
  /** Offset of the write's first byte in the response body as sent (before content-decoding). */
  offset: number;
  /** Bytes written. */
  bytes: number;
  /** Milliseconds from the request's arrival to the write. */
  ms: number;
}

/** What a protocol mapper is given: one captured exchange, both bodies decoded. Runs off the request path. */
export interface MapperInput {
  /**
   * The request body: text, parsed JSON (when it is JSON), decoded bytes. `truncated` says it is not
   * whole: cut at the size cap, or the client stopped sending it.
   */
  request: DecodedBody;
  /** The response body, the same way (`truncated` also when the client left before it ended). An SSE stream is the whole stream's text. */
  response: DecodedBody;
  /** HTTP status sent, or null when the client went away before any response. */
  status: number | null;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Parameters of the matched route pattern (`model`, `version`, …), decoded. */
  params: Readonly<Record<string, string>>;
  requestHeaders: Readonly<IncomingHttpHeaders>;
  /** The response headers as sent. */
  responseHeaders: Readonly<OutgoingHttpHeaders>;
  /**
   * The content-coding of the response bytes inferlog captured (`identity`, `gzip`, …): usually the
   * `Content-Encoding` sent, but `identity` when an encoder mounted before inferlog compressed the body
   * beneath it. `response` is decoded from it; write offsets are offsets in bytes of this coding.
   */
  responseCoding: string;
  /** The first 64 writes of the response body with their times (for time to first token); empty on routes that cannot stream. */
  responseWrites: readonly ResponseWrite[];
  /** The size cap (`maxBodyBytes`): what a mapper expands (binary tensors into JSON) stays within it. */
  maxBodyBytes: number;
}

/**
 * The record fields a mapper fills; everything left out is stored as null. Values of the jsonb fields
 * must be JSON-serialisable. See the record table in docs/record.md for what each field means.
 */
export interface MappedFields {
  /** The protocol stored in the row. Custom mappers may leave it out: the function's name is used. */
  protocol?: string;
  model_name?: string | null;
  model_version?: string | null;
  /** The payload's own inference id (OIP `id`, OpenAI `id`). */
  inference_id?: string | null;
  /** Request parameters (OIP `parameters`; sampling settings of an LLM call). */
  parameters?: unknown;
  /** Input tensors, OIP-shaped: `[{ name, datatype, shape, data, parameters? }]`. */
  inputs?: unknown;
  /** Output tensors, OIP-shaped. */
  outputs?: unknown;
  /** Response parameters (OIP response `parameters`, and what else the response says about itself). */
  response_parameters?: unknown;
  /** Token usage: `{ input_tokens, output_tokens, total_tokens, time_to_first_token_ms? }`. */
  usage?: unknown;
  /** For failed inferences: `{ status, message, … }`. */
  error?: unknown;
  /** Why the payload is not valid for its protocol: `[{ part, path?, message }]`. The record is stored anyway. */
  schema_errors?: unknown[];
  /** Parts that were cut or ended early, added to the row's `truncated` (e.g. `response_stream`). */
  truncated?: string[];
  /**
   * Where a string of these fields ends because the body it came from was cut (the content of a stream
   * choice that never finished): each a field and the keys and indexes inside it, e.g.
   * `['outputs', 0, 'data', 1, 'content']`. On routes with detectors such a string loses the tail that
   * may be the start of a value they would have recognised whole. An error message that is the start of
   * the response's text is found without it.
   */
  cutStrings?: (string | number)[][];
  /** Keep the raw request text in `request_body` (set it when the payload could not be mapped). */
  keepRequestBody?: boolean;
  /** Keep the raw response text in `response_body`. */
  keepResponseBody?: boolean;
}

/**
 * Turns a captured exchange into the record's fields. A custom mapper is a plain function of this type,
 * given as a route's `protocol`. It runs off the request path; if it throws, the exchange is stored raw
 * with the error in `schema_errors` and reported to `onError`. It must be synchronous: one that returns
 * a Promise is treated as one that threw.
 */
export type Mapper = (input: MapperInput) => MappedFields;

/** A schema error entry: which body, where in it (a JSON pointer), and what is wrong. */
export interface SchemaError {
  part: string;
  path?: string;
  message: string;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'bigint' ? String(value) : null;
}

/** A copy of `object` without `keys`, or null when nothing is left. Safe for any key, `__proto__` included. */
export function omitKeys(object: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> | null {
  let out: Record<string, unknown> | null = null;
  for (const key in object) {
    if (!Object.hasOwn(object, key) || keys.includes(key)) continue;
    out ??= {};
    // A plain assignment of "__proto__" would set the prototype instead of the key.
    if (key === '__proto__') Object.defineProperty(out, key, { value: object[key], writable: true, enumerable: true, configurable: true });
    else out[key] = object[key];
  }
  return out;
}

/**
 * `{status, message}` of a typical error body: `{"error": "..."}`, `{"error": {"message": "..."}}`,
 * `{"message": "..."}` or text. The body itself is not copied here: mappers keep it in `response_body`
 * when it is more than the message, where the rules for response bodies apply to it.
 */
export function errorFromBody(body: DecodedBody, status: number | null): Record<string, unknown> {
  const json = body.json;
  let message: string | null = null;
  if (isObject(json)) {
    const err = json.error;
    message = typeof err === 'string' ? err : isObject(err) ? stringOrNull(err.message) : stringOrNull(json.message);
  } else if (body.text && !textIsBytes(body)) {
    message = body.text.slice(0, 1000);
  }
  return { status, message };
}
