import { logTableNames } from '../sink/names';
import { headOf } from './chain-heads';
import type { Snapshot } from './cursor';
import { EVENT_EXPORT, jsonlLine } from './export-format';
import { writeRows, type WriteRowsOptions, type WrittenFile } from './export-file';
import type { ManifestRegistration } from './manifest';

/** A subject that is an inference's id as `id::text` prints it (lower case), so it can be compared as a uuid through the index. */
const LOWER_UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/**
 * Writes the oversight events about the records `filterSql` selects (subject = a record's id or
 * request_id, as `showInference` matches them) to `<out>.partial` as canonical JSONL, in chain order,
 * in the snapshot the records were read in. With `filterSql` null (an unfiltered export), every event,
 * those about no exported record included: then every event chain ends at its head, which lets
 * `verifyBundle` tell a chain cut short from one the filters ended early. The events are found by a semi-join in the database, not
 * by collecting ids here: constant memory for any number of records; the planner joins through the
 * request_id index and the primary key when there are few events, by hashing when there are many.
 */
export function writeEvents(
  t: Snapshot,
  schema: string,
  table: string,
  filterSql: string | null,
  options: Omit<WriteRowsOptions, 'line' | 'header'>,
): Promise<WrittenFile> {
  const line = (row: Record<string, unknown>) => jsonlLine(row, EVENT_EXPORT);
  const events = logTableNames(schema, table).events;
  if (filterSql === null)
    return writeRows(t, 'SELECT * FROM $1:name.$2:name ORDER BY chain_id NULLS LAST, chain_seq, id', [schema, events], {
      ...options,
      line,
    });
  const sql = `SELECT * FROM $1:name.$2:name
    WHERE id IN (SELECT e.id FROM $1:name.$2:name e JOIN (SELECT request_id FROM $1:name.$3:name WHERE $4:raw) l
                     ON l.request_id = e.subject
                 UNION ALL
                 SELECT e.id FROM $1:name.$2:name e JOIN (SELECT id FROM $1:name.$3:name WHERE $4:raw) l
                     ON l.id = CASE WHEN e.subject ~ '${LOWER_UUID}' THEN e.subject::uuid END)
    ORDER BY chain_id NULLS LAST, chain_seq, id`;
  return writeRows(t, sql, [schema, events, table, filterSql], { ...options, line });
}

/** What the chain table holds of these chains, in the snapshot `t`, by chain id. */
export async function readRegistrations(
  t: Snapshot,
  schema: string,
  table: string,
  chainIds: readonly string[],
): Promise<ManifestRegistration[]> {
  const rows = await t.any('SELECT * FROM $1:name.$2:name WHERE chain_id = ANY($3::uuid[]) ORDER BY chain_id', [
    schema,
    logTableNames(schema, table).chains,
    [...chainIds],
  ]);
  return rows.map((r) => {
    const head = headOf(r);
    return {
      chain_id: r.chain_id,
      kind: r.kind,
      started_at: (r.started_at as Date).toISOString(),
      host: r.host,
      pid: r.pid,
      service: r.service,
      service_version: r.service_version,
      last_seq: head.seq,
      last_hash: head.hash,
      public_key: head.public_key,
      head_signature: head.head_signature,
      origin: head.origin,
      ...(r.kind === 'record' && r.statement_interval_ms !== undefined
        ? { statement_interval_ms: r.statement_interval_ms === null ? null : Number(r.statement_interval_ms) }
        : {}),
    };
  });
}
