import { canonicalRow, EVENT_HASH_COLUMNS, RECORD_HASH_COLUMNS } from '../chain/canonical';

/**
 * A row of the log table in its canonical form (chain/canonical.ts: timestamps as ISO 8601 UTC strings
 * with milliseconds, numbers as numbers, jsonb as JSON) with its `record_hash`: what query, tail, show
 * and export return, and what `rowHash` recomputes the hash from.
 */
export interface RecordRow {
  id: string;
  started_at: string;
  ended_at: string;
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
  chain_id: string | null;
  chain_seq: number | null;
  prev_hash: string | null;
  record_hash: string | null;
}

/** An oversight event row in its canonical form, with its `record_hash`. */
export interface EventRow {
  id: string;
  created_at: string;
  subject: string;
  type: string;
  actor: string | null;
  data: unknown;
  redactions: string[];
  chain_id: string | null;
  chain_seq: number | null;
  prev_hash: string | null;
  record_hash: string | null;
}

/** A log row as PostgreSQL returned it, in canonical form. */
export function toRecordRow(row: Readonly<Record<string, unknown>>): RecordRow {
  return { ...canonicalRow(row, RECORD_HASH_COLUMNS), record_hash: (row.record_hash as string | null) ?? null } as RecordRow;
}

/** An event row as PostgreSQL returned it, in canonical form. */
export function toEventRow(row: Readonly<Record<string, unknown>>): EventRow {
  return { ...canonicalRow(row, EVENT_HASH_COLUMNS), record_hash: (row.record_hash as string | null) ?? null } as EventRow;
}
