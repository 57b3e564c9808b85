import { InferlogConfigError } from '../errors';
import type { Database } from '../sink/pgp';
import { filterSql, type RecordFilter } from './filter';
import { POSITION_SQL, type RecordPosition } from './query';
import { toRecordRow, type RecordRow } from './rows';

/** Options of `followRecords`. */
export interface FollowOptions {
  /** Only records that match. */
  filter?: RecordFilter;
  /** Rows at or before this position are old (already shown); default: every row that started before the database's `now()` at the start. */
  after?: RecordPosition | null;
  /** Time between polls. Default 1000 ms. */
  intervalMs?: number;
  /**
   * How far behind the newest row shown a row may start and still be shown when it arrives. A row is
   * written when its request ends, so a long request (a slow stream) lands after shorter ones that
   * started later. Default 60 s; 0 shows strictly newer rows in (started_at, id) order only.
   */
  graceMs?: number;
  /** Most rows handed over per poll (the rest follow at the next poll). Default 1000. */
  maxRowsPerPoll?: number;
  /** Ends following (Ctrl-C). */
  signal?: AbortSignal;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Polls the log for records that arrive, and hands each new one to `onRows` once, in (started_at, id)
 * order per poll, until `signal` aborts. It remembers the ids it has seen within `graceMs` of the newest
 * row, so rows that start earlier but are written later are still shown once; rows that arrive more than
 * `graceMs` late are not. Resolves when `signal` aborts; rejects when a poll fails.
 */
export async function followRecords(
  db: Database,
  schema: string,
  table: string,
  onRows: (rows: RecordRow[]) => void | Promise<void>,
  options: FollowOptions = {},
): Promise<void> {
  const interval = options.intervalMs ?? 1000;
  const grace = options.graceMs ?? 60_000;
  const max = options.maxRowsPerPoll ?? 1000;
  if (!(interval > 0) || !(grace >= 0) || !(max >= 1)) throw new InferlogConfigError('followRecords: intervalMs and maxRowsPerPoll must be positive, graceMs 0 or more');
  const where = filterSql(options.filter ?? {});
  const seen = new Map<string, string>(); // id -> position (started_at to the microsecond)
  let newest: string;
  if (options.after) {
    newest = options.after.at;
  } else {
    const [{ now }] = await db.any(`SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`);
    newest = now as string;
  }
  const windowStart = () => new Date(Date.parse(newest) - grace);
  const list = () =>
    db.any<{ id: string; at: string }>(`SELECT id, ${POSITION_SQL} AS at FROM $1:name.$2:name WHERE ${where} AND started_at >= $3 ORDER BY started_at, id`, [schema, table, windowStart()]);

  // What is there now is old, except rows after the given position (written between the caller's last read and now).
  const after = options.after;
  for (const { id, at } of await list()) {
    const isNew = after ? at > after.at || (at === after.at && id > after.id) : false;
    if (!isNew) seen.set(id, at);
  }

  while (!options.signal?.aborted) {
    const fresh = (await list()).filter((r) => !seen.has(r.id)).slice(0, max);
    if (fresh.length > 0) {
      const found = await db.any(`SELECT * FROM $1:name.$2:name WHERE id = ANY($3::uuid[]) AND started_at >= $4 ORDER BY started_at, id`, [
        schema,
        table,
        fresh.map((r) => r.id),
        new Date(Date.parse(fresh[0].at) - 1),
      ]);
      for (const r of fresh) {
        seen.set(r.id, r.at);
        if (r.at > newest) newest = r.at;
      }
      if (options.signal?.aborted) break;
      await onRows(found.map(toRecordRow));
      // Forget what the next poll cannot list any more (the same bound as its query, to the microsecond).
      const from = windowStart().toISOString().replace('Z', '000Z');
      for (const [id, at] of seen) if (at < from) seen.delete(id);
    }
    await sleep(interval, options.signal);
  }
}
