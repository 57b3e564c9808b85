import type { Exchange } from '../capture/exchange';
import { parseTraceparent } from '../ids';
import type { ResponseWrite } from '../protocols/mapper';
import { runMapper } from '../protocols/run';
import { redact } from '../redact/redactor';
import { decodeBody, decodeParsedBody, type DecodedBody } from '../decode/body';
import { storedForm } from '../json';
import { bodyText, decodedPath, redactable } from '../redact/raw-body';
import { pickHeaders } from './headers';
import { limitEachDepth } from './sanitize';
import type { InferenceRecord } from './record';
import type { RecordSettings } from './settings';
import type { CompiledRoute } from '../routes';

function contentLength(headers: Record<string, unknown>): number {
  const value = Number(headers['content-length']);
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** The timed response writes, relative to the request's arrival. */
function responseWrites(x: Exchange<CompiledRoute>): ResponseWrite[] {
  const times = x.response.writeTimes ?? [];
  const writes: ResponseWrite[] = [];
  for (let i = 0; i + 2 < times.length; i += 3) writes.push({ offset: times[i], bytes: times[i + 1], ms: times[i + 2] - x.startMark });
  return writes;
}

/**
 * Turns a captured exchange into a record: decoding, mapping, header filtering, digests. Runs in the
 * flush path. `onMapperFailure` hears of a mapper that threw (the record is then stored raw).
 */
export function buildRecord(x: Exchange<CompiledRoute>, o: RecordSettings, onMapperFailure?: (message: string) => void): InferenceRecord {
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
  const redactor = x.route.redactor;
  const withheld: string[] = [];
  const requestBody = mapped.keepRequestBody ? redactable(request, String(x.requestHeaders['content-type'] ?? ''), redactor, 'request_body', withheld) : null;
  const responseBody = mapped.keepResponseBody ? redactable(response, String(x.responseHeaders['content-type'] ?? ''), redactor, 'response_body', withheld) : null;
  const scannedPath = redactor ? decodedPath(path) : path;
  const limited = limitEachDepth({
    path: scannedPath,
    request_id: x.requestId,
    inference_id: mapped.inference_id ?? null,
    model_name: mapped.model_name ?? null,
    model_version: mapped.model_version ?? null,
    parameters: mapped.parameters ?? null,
    inputs: mapped.inputs ?? null,
    outputs: mapped.outputs ?? null,
    response_parameters: mapped.response_parameters ?? null,
    usage: mapped.usage ?? null,
    error,
    annotations: redactor ? storedForm(x.annotations) : x.annotations,
    request_headers: pickHeaders(x.requestHeaders, o.requestHeaders),
    response_headers: pickHeaders(x.responseHeaders, o.responseHeaders),
    request_body: requestBody,
    response_body: responseBody,
    schema_errors: mapped.schema_errors ?? null,
  });
  truncated.push(...limited.cut);
  const { parts, fired } = redact(redactor, limited.values);

  return {
    id: x.id,
    started_at: new Date(x.startedAt),
    ended_at: new Date(x.startedAt + x.latencyMs),
    latency_ms: x.latencyMs,
    request_id: typeof parts.request_id === 'string' && parts.request_id !== '' ? parts.request_id : x.id,
    trace_id: trace.traceId,
    span_id: trace.spanId,
    service: o.service,
    service_version: o.serviceVersion,
    host: o.host,
    method: x.method,
    route: x.route.label ?? x.frameworkRoute,
    path: parts.path === scannedPath ? path : typeof parts.path === 'string' ? parts.path : '',
    status,
    aborted: x.aborted,
    protocol: mapped.protocol ?? 'raw',
    model_name: typeof parts.model_name === 'string' ? parts.model_name : null,
    model_version: typeof parts.model_version === 'string' ? parts.model_version : null,
    inference_id: typeof parts.inference_id === 'string' ? parts.inference_id : null,
    parameters: parts.parameters ?? null,
    inputs: parts.inputs ?? null,
    outputs: parts.outputs ?? null,
    response_parameters: parts.response_parameters ?? null,
    usage: parts.usage ?? null,
    error: parts.error ?? null,
    request_headers: parts.request_headers ?? null,
    response_headers: parts.response_headers ?? null,
    request_body: mapped.keepRequestBody ? bodyText(request, parts.request_body, redactor !== null) : null,
    response_body: mapped.keepResponseBody ? bodyText(response, parts.response_body, redactor !== null) : null,
    request_bytes: requestBytes,
    response_bytes: x.response.bytes,
    request_sha256: requestSha,
    response_sha256: x.response.digest(keptResponse),
    truncated,
    redactions: [...withheld, ...fired],
    schema_errors: parts.schema_errors ?? null,
    annotations: parts.annotations ?? null,
  };
}
