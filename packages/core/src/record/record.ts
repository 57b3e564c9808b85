import type { Chained } from '../chain/chain';

/** One row of the inference log, as the sink writes it (see the record table in DESIGN.md). The chain fields are set right before the first write. */
export interface InferenceRecord extends Chained {
  id: string;
  started_at: Date;
  ended_at: Date;
  latency_ms: number;
  request_id: string;
  trace_id: string | null;
  span_id: string | null;
  service: string | null;
  service_version: string | null;
  host: string | null;
  method: string;
  route: string | null;
  path: string;
  status: number | null;
  aborted: boolean;
  protocol: string;
  model_name: string | null;
  model_version: string | null;
  inference_id: string | null;
  parameters: unknown;
  inputs: unknown;
  outputs: unknown;
  response_parameters: unknown;
  usage: unknown;
  error: unknown;
  request_headers: unknown;
  response_headers: unknown;
  request_body: string | null;
  response_body: string | null;
  request_bytes: number;
  response_bytes: number;
  request_sha256: string | null;
  response_sha256: string | null;
  truncated: string[];
  redactions: string[];
  schema_errors: unknown;
  annotations: unknown;
}

export const RECORD_COLUMNS = [
  'id', 'started_at', 'ended_at', 'latency_ms', 'request_id', 'trace_id', 'span_id', 'service', 'service_version',
  'host', 'method', 'route', 'path', 'status', 'aborted', 'protocol', 'model_name', 'model_version', 'inference_id',
  'parameters', 'inputs', 'outputs', 'response_parameters', 'usage', 'error', 'request_headers', 'response_headers',
  'request_body', 'response_body', 'request_bytes', 'response_bytes', 'request_sha256', 'response_sha256',
  'truncated', 'redactions', 'schema_errors', 'annotations', 'chain_id', 'chain_seq', 'prev_hash', 'record_hash',
] as const satisfies readonly (keyof InferenceRecord)[];

export const JSONB_COLUMNS: ReadonlySet<string> = new Set([
  'parameters', 'inputs', 'outputs', 'response_parameters', 'usage', 'error', 'request_headers', 'response_headers',
  'schema_errors', 'annotations',
]);
