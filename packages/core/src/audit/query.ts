import { InferlogConfigError } from '../errors';
import { pgp, type Database } from '../sink/pgp';
import { filterSql, type RecordFilter } from './filter';
import { toRecordRow, type RecordRow } from './rows';

/** A position in the log, in (started_at, id) order: the last row of a page. */
export interface RecordPosition {
  /** `started_at` with microseconds, ISO 8601 UTC (PostgreSQL keeps microseconds; a JS Date only milliseconds). */
  at: string;
  id: string;
}

/** One page of records, oldest first, and the cursor of the next page (null on the last page). */
export interface RecordPage {
  rows: RecordRow[];
  next: string | null;
}

/** Options of `queryRecords`. */
export interface QueryOptions {
  /** Rows per page (1..10000). Default 50. */
  limit?: number;
  /** The cursor a previous page returned as `next`: this page starts right after its last row. */
  after?: string;
}

/** `started_at` to the microsecond, as text, for cursors. */
export const POSITION_SQL = `to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The cursor of a position: `<started_at>/<id>`, readable and safe to pass on a command line. */
export function encodeCursor(position: RecordPosition): string {
  return `${position.at}/${position.id}`;
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** The position a cursor names; throws `InferlogConfigError` for anything that is not a cursor. */
export function decodeCursor(cursor: string): RecordPosition {
  const match = CURSOR.exec(cursor.trim());
  if (!match)
    throw new InferlogConfigError(`"${cursor}" is not a cursor: pass the "next" value a previous page printed (<started_at>/<id>)`);
  return { at: match[1]!, id: match[2]!.toLowerCase() };
}

/** Rows strictly after a position in (started_at, id) order; the plain `started_at >=` lets the BRIN index and partition pruning help. */
export function afterSql(position: RecordPosition): string {
  return pgp.as.format('started_at >= $1::timestamptz AND (started_at, id) > ($1::timestamptz, $2::uuid)', [position.at, position.id]);
}

function checkLimit(limit: number, name: string, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new InferlogConfigError(`${name} must be a whole number from 1 to ${max}; got ${limit}`);
}

/** Strips the position column off a row read with `POSITION_SQL AS inferlog_position`. */
function split(row: Record<string, unknown>): { row: RecordRow; at: string } {
  const { inferlog_position: at, ...rest } = row;
  return { row: toRecordRow(rest), at: at as string };
}

/**
 * The records that match `filter`, oldest first ((started_at, id) order), one page at a time: pass the
 * page's `next` as `after` to get the following page, which starts exactly after the last row shown
 * (keyset paging: stable while rows arrive, no OFFSET scans).
 */
export async function queryRecords(
  db: Database,
  schema: string,
  table: string,
  filter: RecordFilter = {},
  options: QueryOptions = {},
): Promise<RecordPage> {
  const limit = options.limit ?? 50;
  checkLimit(limit, 'limit', 10_000);
  const after = options.after === undefined ? 'TRUE' : afterSql(decodeCursor(options.after));
  const found = await db.any(
    `SELECT *, ${POSITION_SQL} AS inferlog_position FROM $1:name.$2:name WHERE $4:raw AND $5:raw ORDER BY started_at, id LIMIT $3`,
    [schema, table, limit + 1, filterSql(filter), after],
  );
  const rows = found.slice(0, limit).map(split);
  const last = rows.at(-1);
  return { rows: rows.map((r) => r.row), next: found.length > limit && last ? encodeCursor({ at: last.at, id: last.row.id }) : null };
}

/** How far back `tailRecords` looks before widening: most logs have their newest rows in the last hour. */
const TAIL_WINDOWS_MS = [3_600_000, 86_400_000, 31 * 86_400_000, Number.POSITIVE_INFINITY];

/** The newest rows, and the position of the newest one (null when there are none). */
export interface TailResult {
  /** Oldest first, as `tail` prints them. */
  rows: RecordRow[];
  /** The newest row's position, from which `followRecords` continues. */
  newest: RecordPosition | null;
  /** The database's time when the rows were read: where to follow from when there were none. */
  readAt: RecordPosition;
}

/** The position before every row that starts after the database's `now()`. */
export const NOW_POSITION_SQL = `SELECT now() AS now, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The `n` newest records that match `filter`. It looks at the last hour first, then the last day, month
 * and everything, so a large log is not sorted whole when its newest rows are recent (`started_at` has a
 * BRIN index, which narrows a time range but cannot give an order).
 */
export async function tailRecords(db: Database, schema: string, table: string, n = 20, filter: RecordFilter = {}): Promise<TailResult> {
  checkLimit(n, 'the number of rows', 10_000);
  const [{ now, at }] = await db.any(NOW_POSITION_SQL);
  for (const window of TAIL_WINDOWS_MS) {
    const since = Number.isFinite(window) ? pgp.as.format('started_at >= $1', [new Date((now as Date).getTime() - window)]) : 'TRUE';
    const found = await db.any(
      `SELECT *, ${POSITION_SQL} AS inferlog_position FROM $1:name.$2:name WHERE $4:raw AND $5:raw ORDER BY started_at DESC, id DESC LIMIT $3`,
      [schema, table, n, filterSql(filter), since],
    );
    if (found.length === n || !Number.isFinite(window)) {
      const rows = found.map(split).reverse();
      const last = rows.at(-1);
      return { rows: rows.map((r) => r.row), newest: last ? { at: last.at, id: last.row.id } : null, readAt: { at, id: NIL_UUID } };
    }
  }
  throw new Error('unreachable');
}
