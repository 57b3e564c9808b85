import { InferlogConfigError } from '../errors';
import { pgp, type Database } from '../sink/pgp';
import { filterSql, type RecordFilter } from './filter';
import { canonicalRow, RECORD_KINDS } from '../chain/canonical';
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
  // The pattern takes any digits: 2026-13-45T99:00 has the form of a time but is none.
  if (!match || Number.isNaN(Date.parse(match[1]!)) || new Date(match[1]!).toISOString().slice(0, 19) !== match[1]!.slice(0, 19))
    throw new InferlogConfigError(
      `"${cursor}" is not a cursor: pass the cursor a previous page gave ("next" of a query, "older" of the newest-first list: <started_at>/<id>)`,
    );
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

/** Rows that started at most `span` ms before `start` (all rows for an infinite span). */
const sinceSql = (start: Date, span: number) =>
  Number.isFinite(span) ? pgp.as.format('started_at >= $1', [new Date(start.getTime() - span)]) : 'TRUE';

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
    const found = await db.any(
      `SELECT *, ${POSITION_SQL} AS inferlog_position FROM $1:name.$2:name WHERE $4:raw AND $5:raw ORDER BY started_at DESC, id DESC LIMIT $3`,
      [schema, table, n, filterSql(filter), sinceSql(now as Date, window)],
    );
    if (found.length === n || !Number.isFinite(window)) {
      const rows = found.map(split).reverse();
      const last = rows.at(-1);
      return { rows: rows.map((r) => r.row), newest: last ? { at: last.at, id: last.row.id } : null, readAt: { at, id: NIL_UUID } };
    }
  }
  throw new Error('unreachable');
}

/** The columns of a record a list shows: no bodies, tensors, headers or parameters (50 full rows can weigh 100 MB). */
const SUMMARY_COLUMNS = [
  'id',
  'started_at',
  'ended_at',
  'latency_ms',
  'request_id',
  'service',
  'method',
  'route',
  'path',
  'status',
  'aborted',
  'protocol',
  'model_name',
  'model_version',
  'chain_id',
  'chain_seq',
] as const;

/** A record as a list shows it: its own columns above, and what else it carries as counts. */
export interface RecordSummary extends Pick<RecordRow, (typeof SUMMARY_COLUMNS)[number]> {
  /** An error was recorded. */
  error_present: boolean;
  /** Entries of `schema_errors`. */
  schema_error_count: number;
  /** Entries of `redactions`. */
  redaction_count: number;
  /** Entries of `truncated`. */
  truncated_count: number;
}

const SUMMARY_KINDS = Object.fromEntries(SUMMARY_COLUMNS.map((c) => [c, RECORD_KINDS[c]!]));
const SUMMARY_SQL = `${SUMMARY_COLUMNS.join(', ')}, error IS NOT NULL AS error_present,
  CASE WHEN jsonb_typeof(schema_errors) = 'array' THEN jsonb_array_length(schema_errors) ELSE 0 END AS schema_error_count,
  cardinality(redactions) AS redaction_count, cardinality(truncated) AS truncated_count`;

function toSummary(row: Record<string, unknown>): RecordSummary {
  return {
    ...(canonicalRow(row, SUMMARY_KINDS) as Pick<RecordRow, (typeof SUMMARY_COLUMNS)[number]>),
    error_present: row.error_present === true,
    schema_error_count: Number(row.schema_error_count),
    redaction_count: Number(row.redaction_count),
    truncated_count: Number(row.truncated_count),
  };
}

/** One page of records, newest first, and the cursor of the next (older) page: null on the last page. */
export interface NewestPage {
  rows: RecordSummary[];
  /** Pass as `before` for the page of older records. */
  older: string | null;
}

/** Options of `newestRecords`. */
export interface NewestOptions {
  /** Rows per page (1..1000). Default 50. */
  limit?: number;
  /** The cursor a previous page returned as `older`: this page holds the records right before its last row. */
  before?: string;
}

/** The spans `newestRecords` looks back over, each 16 times the one before, from an hour: a log's rows are dense near its newest. */
const LOOK_BACK_MS = [3_600_000, 57_600_000, 921_600_000, 14_745_600_000, Number.POSITIVE_INFINITY];
/** The spans before the database's clock in which `newestRecords` looks for the newest matching row: an hour, a day, a week, 30 days, a year, ten years. */
const NEWEST_WITHIN_MS = [3_600_000, 86_400_000, 604_800_000, 2_592_000_000, 31_536_000_000, 315_360_000_000];

/** Whether a record that matches `where` started at or after `at`: a BRIN-narrowed scan that stops at the first row. */
async function anySince(db: Database, schema: string, table: string, where: string, at: Date | null): Promise<boolean> {
  const since = at === null ? 'TRUE' : pgp.as.format('started_at >= $1', [at]);
  const found = await db.any('SELECT 1 FROM $1:name.$2:name WHERE $3:raw AND $4:raw LIMIT 1', [schema, table, where, since]);
  return found.length > 0;
}

/** How close `newestStart` narrows the newest row down before it reads the rows in between. */
const NARROW_MS = 3_600_000;

/**
 * When the newest record that matches `filter` started, or null when none does. `max(started_at)` over the
 * table would read every row, and a log's newest row may be months old (an archived system). So it asks
 * whether any row started within ever longer spans before `end` (the database's clock, or the filter's
 * `until`; constant bounds: older
 * partitions are pruned and the BRIN index skips old block ranges), halves the span in which the newest
 * row must lie down to an hour, and reads the maximum only there.
 */
async function newestStart(db: Database, schema: string, table: string, where: string, end: Date): Promise<Date | null> {
  let hi: number | null = null; // no matching row starts at or after it (null: not known yet)
  let lo: number | null = null; // a matching row starts at or after it
  for (const span of NEWEST_WITHIN_MS) {
    const at = end.getTime() - span;
    if (await anySince(db, schema, table, where, new Date(at))) {
      lo = at;
      break;
    }
    hi = at;
  }
  if (lo === null) {
    // Nothing in the ten years before `end`: the oldest match, if any, bounds the search from below.
    const [{ oldest }] = await db.any('SELECT min(started_at) AS oldest FROM $1:name.$2:name WHERE $3:raw', [schema, table, where]);
    if (oldest === null) return null;
    lo = (oldest as Date).getTime();
  }
  while (hi !== null && hi - lo > NARROW_MS) {
    const mid: number = lo + Math.floor((hi - lo) / 2);
    if (await anySince(db, schema, table, where, new Date(mid))) lo = mid;
    else hi = mid;
  }
  const [{ newest }] = await db.any('SELECT max(started_at) AS newest FROM $1:name.$2:name WHERE $3:raw AND started_at >= $4', [
    schema,
    table,
    where,
    new Date(lo),
  ]);
  return (newest as Date | null) ?? null;
}

/**
 * Summaries of the records that match `filter`, newest first ((started_at, id) descending), one page at a time: pass
 * the page's `older` as `before` for the next. The log table has a BRIN index on `started_at`, which
 * narrows a time range but gives no order, so nothing here sorts or counts the table: the first page of
 * a live log is the last hour's newest rows (one query); otherwise a page looks back from its start (the
 * newest matching row, found by `newestStart`, or the cursor) an hour, then 16 hours, about 11 days,
 * 171 days and everything, and stops at the first span that fills it.
 */
export async function newestRecords(
  db: Database,
  schema: string,
  table: string,
  filter: RecordFilter = {},
  options: NewestOptions = {},
): Promise<NewestPage> {
  const limit = options.limit ?? 50;
  checkLimit(limit, 'limit', 1000);
  const where = filterSql(filter);
  const page = async (before: string, since: string): Promise<NewestPage & { full: boolean }> => {
    const found = await db.any(
      `SELECT ${SUMMARY_SQL}, ${POSITION_SQL} AS inferlog_position FROM $1:name.$2:name WHERE $4:raw AND $5:raw AND $6:raw
        ORDER BY started_at DESC, id DESC LIMIT $3`,
      [schema, table, limit + 1, where, before, since],
    );
    const rows = found.slice(0, limit).map((r) => ({ row: toSummary(r), at: r.inferlog_position as string }));
    const last = rows.at(-1);
    const full = found.length > limit;
    return { rows: rows.map((r) => r.row), older: full && last ? encodeCursor({ at: last.at, id: last.row.id }) : null, full };
  };
  let start: Date;
  let before = 'TRUE';
  if (options.before === undefined) {
    // A live log fills its first page from the last hour: one query. Otherwise find its newest row first.
    // The first page has no upper bound: a row stamped ahead of the database's clock is on it too.
    // With an `until` in the past, the newest match is before it: the spans end there instead.
    const [{ now }] = await db.any('SELECT now() AS now');
    const end = filter.until && filter.until < (now as Date) ? filter.until : (now as Date);
    const recent = await page('TRUE', sinceSql(end, LOOK_BACK_MS[0]!));
    if (recent.full) return { rows: recent.rows, older: recent.older };
    const newest = await newestStart(db, schema, table, where, end);
    if (newest === null) return { rows: [], older: null };
    start = newest;
  } else {
    const position = decodeCursor(options.before);
    start = new Date(position.at);
    before = pgp.as.format('started_at <= $1::timestamptz AND (started_at, id) < ($1::timestamptz, $2::uuid)', [position.at, position.id]);
  }
  for (const span of LOOK_BACK_MS) {
    const found = await page(before, sinceSql(start, span));
    if (found.full || !Number.isFinite(span)) return { rows: found.rows, older: found.older };
  }
  throw new Error('unreachable');
}
