import type { Exchange } from '../capture/exchange';
import type { DecodedBody } from '../decode/body';
import { decodeExchange, type DecodedExchange } from '../decode/exchange';
import { parseTraceparent } from '../ids';
import type { MapperInput, ResponseWrite } from '../protocols/mapper';
import { runMapper } from '../protocols/run';
import { bodyText } from '../redact/raw-body';
import { type CompiledRoute, routeParams } from '../routes';
import { fallbackRecord } from './fallback';
import { redactedParts } from './parts';
import type { InferenceRecord } from './record';
import type { RecordSettings } from './settings';

/** The timed response writes, relative to the request's arrival. */
function responseWrites(x: Exchange<CompiledRoute>): ResponseWrite[] {
  const times = x.response.writeTimes ?? [];
  const writes: ResponseWrite[] = [];
  for (let i = 0; i + 2 < times.length; i += 3) writes.push({ offset: times[i]!, bytes: times[i + 1]!, ms: times[i + 2]! - x.startMark });
  return writes;
}

/** A body that is not whole, as the mapper should see it: `truncated` also when the client went away mid-body. */
const cutShort = (body: DecodedBody, short: boolean): DecodedBody => (short && !body.truncated ? { ...body, truncated: true } : body);

/** What a protocol mapper is given: the decoded bodies and the HTTP facts. */
function mapperInput(x: Exchange<CompiledRoute>, d: DecodedExchange, maxBodyBytes: number): MapperInput {
  return {
    request: cutShort(d.request, x.requestIncomplete),
    response: cutShort(d.response, x.aborted),
    status: x.status || null,
    method: x.method,
    path: d.path,
    params: routeParams(x.route, d.routePath, d.path),
    requestHeaders: x.requestHeaders,
    responseHeaders: x.responseHeaders,
    responseCoding: d.responseCoding,
    responseWrites: responseWrites(x),
    maxBodyBytes,
  };
}

/** A mapper's failure as the record stores it: the first schema error, which runMapper made of it, after redaction. */
function storedFailure(schemaErrors: unknown): string {
  const first: unknown = Array.isArray(schemaErrors) ? schemaErrors[0] : undefined;
  const message = typeof first === 'object' && first !== null ? (first as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : 'the mapper failed; a redaction rule removed its message';
}

/**
 * Turns a captured exchange into a record, off the request path, one stage after another: decode both
 * bodies, map them by the route's protocol, limit and redact the parts, and assemble the row.
 * `onMapperFailure` hears of a mapper that threw (the record is then stored raw), as the record stores it.
 */
export function buildRecord(x: Exchange<CompiledRoute>, o: RecordSettings, onMapperFailure?: (message: string) => void): InferenceRecord {
  const decoded = decodeExchange(x, o.maxBodyBytes);
  const { fields: mapped, failure } = runMapper(x.route.protocol, mapperInput(x, decoded, o.maxBodyBytes));
  const status = x.status || null;
  let error = mapped.error ?? null;
  if (x.thrown) error = { ...(error as object | null), status, exception: x.thrown };
  const redactor = x.route.redactor;
  const { parts, scannedPath, scannedRoute, cut, redactions } = redactedParts(x, decoded, mapped, error, redactor, o);
  const { path, request, response } = decoded;
  const truncated = [...decoded.truncated, ...(mapped.truncated ?? []), ...cut];
  const trace = parseTraceparent(x.requestHeaders.traceparent);
  const requestId = typeof parts.request_id === 'string' && parts.request_id !== '' ? parts.request_id : x.id;
  // Reported as stored: the record's id, its stored request id, the failure as redacted in schema_errors.
  if (failure) onMapperFailure?.(`record ${x.id}, request id ${requestId}: ${storedFailure(parts.schema_errors)}`);
  return {
    id: x.id,
    started_at: new Date(x.startedAt),
    ended_at: new Date(x.startedAt + x.latencyMs),
    latency_ms: x.latencyMs,
    request_id: requestId,
    trace_id: trace.traceId,
    span_id: trace.spanId,
    service: o.service,
    service_version: o.serviceVersion,
    host: o.host,
    method: x.method,
    route: x.route.label ?? (parts.route === scannedRoute ? x.frameworkRoute : typeof parts.route === 'string' ? parts.route : null),
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
    request_bytes: decoded.requestBytes,
    response_bytes: decoded.responseBytes,
    request_sha256: decoded.requestSha256,
    response_sha256: decoded.responseSha256,
    truncated,
    redactions,
    schema_errors: parts.schema_errors ?? null,
    annotations: parts.annotations ?? null,
  };
}

/**
 * The record of an exchange, never throwing: built, or (when building fails) the fallback record of its
 * HTTP facts. Failures go to `report` as the record stores them: by the record's id and stored request
 * id, the reason as redacted there; never the error itself, which an app's code may have thrown with
 * what redaction removes in its message.
 */
export function recordOf(x: Exchange<CompiledRoute>, o: RecordSettings, report: (message: string) => void): InferenceRecord {
  try {
    return buildRecord(x, o, report);
  } catch (err) {
    const record = fallbackRecord(x, o, err);
    const reason = (record.schema_errors as { message?: unknown }[] | null)?.[0]?.message;
    report(
      `building the record ${record.id} (request id ${record.request_id}) failed; a minimal record is stored instead: ${typeof reason === 'string' ? reason : 'see its schema_errors'}`,
    );
    return record;
  }
}
