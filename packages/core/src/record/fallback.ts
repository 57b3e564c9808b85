import type { Exchange } from '../capture/exchange';
import { describe } from '../errors';
import { redact } from '../redact/redactor';
import { storedForm } from '../json';
import { exchangePaths } from '../decode/exchange';
import { decodedPath } from '../redact/raw-body';
import { limitEachDepth } from './sanitize';
import type { InferenceRecord, RecordColumn } from './record';
import type { RecordSettings } from './settings';
import type { CompiledRoute } from '../routes';

const PAYLOAD_PARTS = [
  'request_body',
  'response_body',
  'parameters',
  'inputs',
  'outputs',
  'response_parameters',
  'usage',
  'error',
  'annotations',
] satisfies RecordColumn[];

type Facts = Pick<InferenceRecord, 'path' | 'request_id' | 'annotations' | 'schema_errors' | 'redactions'>;

/**
 * What of a failed exchange may be stored: its path, request id, annotations and the reason, redacted as
 * `buildRecord` redacts them; nothing of them (the record's id for its request id) if redaction fails too.
 */
function redactedFacts(x: Exchange<CompiledRoute>, path: string, err: unknown): Facts {
  const schemaErrors = [{ part: 'record', message: `inferlog could not build this record: ${describe(err)}` }];
  const redactor = x.route.redactor;
  try {
    const scannedPath = redactor ? decodedPath(path) : path;
    const annotations = redactor ? storedForm(x.annotations) : x.annotations;
    const { parts, fired } = redact(
      redactor,
      limitEachDepth({ path: scannedPath, request_id: x.requestId, annotations, schema_errors: schemaErrors }).values,
    );
    return {
      path: parts.path === scannedPath ? path : typeof parts.path === 'string' ? parts.path : '',
      request_id: typeof parts.request_id === 'string' && parts.request_id !== '' ? parts.request_id : x.id,
      annotations: parts.annotations ?? null,
      schema_errors: parts.schema_errors ?? null,
      redactions: fired,
    };
  } catch (again) {
    const reason = `inferlog could neither build nor redact this record (${(err as Error)?.name ?? 'Error'}, then ${(again as Error)?.name ?? 'Error'}); its path, request id and annotations are withheld`;
    return {
      path: x.route.label ?? '',
      request_id: x.id,
      annotations: null,
      schema_errors: [{ part: 'record', message: reason }],
      redactions: ['withheld'],
    };
  }
}

/** The record of an exchange whose full record could not be built: the HTTP facts, sizes and the reason. */
export function fallbackRecord(x: Exchange<CompiledRoute>, o: RecordSettings, err: unknown): InferenceRecord {
  const facts = redactedFacts(x, exchangePaths(x).path, err);
  return {
    id: x.id,
    started_at: new Date(x.startedAt),
    ended_at: new Date(x.startedAt + x.latencyMs),
    latency_ms: x.latencyMs,
    request_id: facts.request_id,
    trace_id: null,
    span_id: null,
    service: o.service,
    service_version: o.serviceVersion,
    host: o.host,
    method: x.method,
    route: x.route.label,
    path: facts.path,
    status: x.status || null,
    aborted: x.aborted,
    protocol: 'raw',
    model_name: null,
    model_version: null,
    inference_id: null,
    parameters: null,
    inputs: null,
    outputs: null,
    response_parameters: null,
    usage: null,
    error: null,
    request_headers: null,
    response_headers: null,
    request_body: null,
    response_body: null,
    request_bytes: x.request.bytes,
    response_bytes: x.response.bytes,
    request_sha256: null,
    response_sha256: null,
    truncated: ['request_body', 'response_body'],
    redactions: facts.redactions,
    schema_errors: facts.schema_errors,
    annotations: facts.annotations,
  };
}

/**
 * A record PostgreSQL refused (a data error) without its payload columns, so the inference is still on
 * file with its HTTP facts, sizes and digests, and the reason in `schema_errors`.
 */
export function strippedRecord(record: InferenceRecord, err: unknown): InferenceRecord {
  return {
    ...record,
    parameters: null,
    inputs: null,
    outputs: null,
    response_parameters: null,
    usage: null,
    error: null,
    request_headers: null,
    response_headers: null,
    request_body: null,
    response_body: null,
    annotations: null,
    truncated: PAYLOAD_PARTS,
    schema_errors: [{ part: 'record', message: `PostgreSQL refused this record; stored without its payload: ${describe(err)}` }],
  };
}
