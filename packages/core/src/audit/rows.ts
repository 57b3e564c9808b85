import { canonicalRow, EVENT_KINDS, RECORD_KINDS } from '../chain/canonical';
import type { Canonical, EVENT_TABLE, RECORD_TABLE } from '../columns';

/**
 * A row of the log table in its canonical form (chain/canonical.ts: timestamps as ISO 8601 UTC strings
 * with milliseconds, numbers as numbers, jsonb as JSON) with its `record_hash`: what query, tail, show
 * and export return, and what `rowHash` recomputes the hash from.
 */
export interface RecordRow extends Canonical<typeof RECORD_TABLE> {}

/** An oversight event row in its canonical form, with its `record_hash`. */
export interface EventRow extends Canonical<typeof EVENT_TABLE> {}

/** A log row as PostgreSQL returned it, in canonical form. */
export function toRecordRow(row: Readonly<Record<string, unknown>>): RecordRow {
  return canonicalRow(row, RECORD_KINDS) as RecordRow;
}

/** An event row as PostgreSQL returned it, in canonical form. */
export function toEventRow(row: Readonly<Record<string, unknown>>): EventRow {
  return canonicalRow(row, EVENT_KINDS) as EventRow;
}
