import type { Exchange } from '../capture/exchange';
import { describe } from '../errors';
import type { ResolvedOptions } from '../options';
import type { InferenceRecord } from './record';

const PAYLOAD_PARTS = ['request_body', 'response_body', 'parameters', 'inputs', 'outputs', 'response_parameters', 'usage', 'error', 'annotations'];

/** The record of an exchange whose full record could not be built: the HTTP facts, sizes and the reason. */
export function fallbackRecord(x: Exchange, o: ResolvedOptions, err: unknown): InferenceRecord {
  const q = x.url.indexOf('?');
  return {
    id: x.id, started_at: new Date(x.startedAt), ended_at: new Date(x.startedAt + x.latencyMs), latency_ms: x.latencyMs,
    request_id: x.requestId, trace_id: null, span_id: null, service: o.service, service_version: o.serviceVersion,
    host: o.host, method: x.method, route: x.route.label, path: q === -1 ? x.url : x.url.slice(0, q),
    status: x.status || null, aborted: x.aborted, protocol: 'raw', model_name: null, model_version: null,
    inference_id: null, parameters: null, inputs: null, outputs: null, response_parameters: null, usage: null,
    error: null, request_headers: null, response_headers: null, request_body: null, response_body: null,
    request_bytes: x.request.bytes, response_bytes: x.response.bytes, request_sha256: null, response_sha256: null,
    truncated: ['request_body', 'response_body'], redactions: [],
    schema_errors: [{ part: 'record', message: `inferlog could not build this record: ${describe(err)}` }],
    annotations: x.annotations,
  };
}

/**
 * A record PostgreSQL refused (a data error) without its payload columns, so the inference is still on
 * file with its HTTP facts, sizes and digests, and the reason in `schema_errors`.
 */
export function strippedRecord(record: InferenceRecord, err: unknown): InferenceRecord {
  return {
    ...record,
    parameters: null, inputs: null, outputs: null, response_parameters: null, usage: null, error: null,
    request_headers: null, response_headers: null, request_body: null, response_body: null, annotations: null,
    truncated: PAYLOAD_PARTS,
    schema_errors: [{ part: 'record', message: `PostgreSQL refused this record; stored without its payload: ${describe(err)}` }],
  };
}
