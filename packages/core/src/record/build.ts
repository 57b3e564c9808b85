import type { Exchange } from '../capture/exchange';
import { parseTraceparent } from '../ids';
import type { ResolvedOptions } from '../options';
import type { ResponseWrite } from '../protocols/mapper';
import { runMapper } from '../protocols/run';
import { redact } from '../redact/redactor';
import { decodeBody, decodeParsedBody, type DecodedBody } from './decode';
import { pickHeaders } from './headers';
import { limitEachDepth } from './sanitize';
import type { InferenceRecord } from './record';

function contentLength(headers: Record<string, unknown>): number {
  const value = Number(headers['content-length']);
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** The timed response writes, relative to the request's arrival. */
function responseWrites(x: Exchange): ResponseWrite[] {
  const times = x.response.writeTimes ?? [];
  const writes: ResponseWrite[] = [];
  for (let i = 0; i + 2 < times.length; i += 3) writes.push({ offset: times[i], bytes: times[i + 1], ms: times[i + 2] - x.startMark });
  return writes;
}

/**
 * The stored text of a raw body after redaction: its original text when no rule touched it; else the
 * redacted value, as JSON when the body was JSON.
 */
function bodyText(body: DecodedBody, before: unknown, after: unknown): string | null {
  if (after === before) return body.text;
  if (after === undefined || after === null) return null;
  return body.json !== undefined || typeof after !== 'string' ? JSON.stringify(after) : after;
}

/**
 * Turns a captured exchange into a record: decoding, mapping, header filtering, digests. Runs in the
 * flush path. `onMapperFailure` hears of a mapper that threw (the record is then stored raw).
 */
export function buildRecord(x: Exchange, o: ResolvedOptions, onMapperFailure?: (message: string) => void): InferenceRecord {
  const q = x.url.indexOf('?');
  const path = q === -1 ? x.url : x.url.slice(0, q);
  const status = x.status || null;
  const truncated: string[] = [];

  let request: DecodedBody;
  let requestBytes: number;
  let requestSha: string | null;
  if (x.parsedRequestBody !== undefined) {
    // A body parser ran before inferlog: the original bytes were never seen, so there is no digest of them.
    request = decodeParsedBody(x.parsedRequestBody, x.requestHeaders, o.maxBodyBytes);
    requestBytes = contentLength(x.requestHeaders);
    requestSha = null;
  } else {
    const kept = x.request.content();
    request = decodeBody(kept, x.requestHeaders, x.request.truncated, o.maxBodyBytes);
    requestBytes = x.request.bytes;
    requestSha = x.request.digest(kept);
  }
  const keptResponse = x.response.content();
  const response = decodeBody(keptResponse, x.responseHeaders, x.response.truncated, o.maxBodyBytes);
  if (request.truncated || x.requestIncomplete) truncated.push('request_body');
  if (response.truncated) truncated.push('response_body');

  const { fields: mapped, failure } = runMapper(x.route.protocol, {
    request,
    response,
    status,
    method: x.method,
    path,
    params: x.route.params(path),
    requestHeaders: x.requestHeaders,
    responseHeaders: x.responseHeaders,
    responseWrites: responseWrites(x),
    maxBodyBytes: o.maxBodyBytes,
  });
  if (failure) onMapperFailure?.(`request ${x.requestId}: ${failure}`);
  if (mapped.truncated) truncated.push(...mapped.truncated);
  let error = mapped.error ?? null;
  if (x.thrown) error = { ...(error as object | null), status, exception: x.thrown };
  const trace = parseTraceparent(x.requestHeaders.traceparent);
  const requestBody = mapped.keepRequestBody ? (request.json ?? request.text) : null;
  const responseBody = mapped.keepResponseBody ? (response.json ?? response.text) : null;
  const limited = limitEachDepth({
    path,
    inference_id: mapped.inference_id ?? null,
    parameters: mapped.parameters ?? null,
    inputs: mapped.inputs ?? null,
    outputs: mapped.outputs ?? null,
    response_parameters: mapped.response_parameters ?? null,
    usage: mapped.usage ?? null,
    error,
    annotations: x.annotations,
    request_headers: pickHeaders(x.requestHeaders, o.requestHeaders),
    response_headers: pickHeaders(x.responseHeaders, o.responseHeaders),
    request_body: requestBody,
    response_body: responseBody,
    schema_errors: mapped.schema_errors ?? null,
  });
  truncated.push(...limited.cut);
  const { parts, fired } = redact(x.route.redactor, limited.values);

  return {
    id: x.id,
    started_at: new Date(x.startedAt),
    ended_at: new Date(x.startedAt + x.latencyMs),
    latency_ms: x.latencyMs,
    request_id: x.requestId,
    trace_id: trace.traceId,
    span_id: trace.spanId,
    service: o.service,
    service_version: o.serviceVersion,
    host: o.host,
    method: x.method,
    route: x.route.label ?? x.frameworkRoute,
    path: typeof parts.path === 'string' ? parts.path : '',
    status,
    aborted: x.aborted,
    protocol: mapped.protocol ?? 'raw',
    model_name: mapped.model_name ?? null,
    model_version: mapped.model_version ?? null,
    inference_id: typeof parts.inference_id === 'string' ? parts.inference_id : null,
    parameters: parts.parameters ?? null,
    inputs: parts.inputs ?? null,
    outputs: parts.outputs ?? null,
    response_parameters: parts.response_parameters ?? null,
    usage: parts.usage ?? null,
    error: parts.error ?? null,
    request_headers: parts.request_headers ?? null,
    response_headers: parts.response_headers ?? null,
    request_body: mapped.keepRequestBody ? bodyText(request, requestBody, parts.request_body) : null,
    response_body: mapped.keepResponseBody ? bodyText(response, responseBody, parts.response_body) : null,
    request_bytes: requestBytes,
    response_bytes: x.response.bytes,
    request_sha256: requestSha,
    response_sha256: x.response.digest(keptResponse),
    truncated,
    redactions: fired,
    schema_errors: parts.schema_errors ?? null,
    annotations: parts.annotations ?? null,
  };
}
