import { InferlogConfigError } from '../errors';
import type { Database } from '../sink/pgp';
import { filterSql, type RecordFilter } from './filter';
import { POSITION_SQL, tailRecords } from './query';
import { toRecordRow, type RecordRow } from './rows';

/** Options of `LogFollower.start` and `followRecords`. */
export interface FollowOptions {
  /** Only records that match. */
  filter?: RecordFilter;
  /**
   * How far behind the newest row seen a row may start and still be shown when it arrives. A row is
   * written when its request ends, so a long request (a slow stream) lands after shorter ones that
   * started later. Default 60 s; 0 shows strictly newer rows in (started_at, id) order only.
   */
  graceMs?: number;
  /** Time between polls. Default 1000 ms. */
  intervalMs?: number;
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

/** A millisecond ISO time as a microsecond position, for comparing with positions read from PostgreSQL. */
const micros = (iso: string) => iso.replace(/(\.\d{3})Z$/, '$1000Z');

/**
 * Follows a log: hands each record that arrives after `start` to `run`'s callback once. It remembers the
 * ids it has seen within `graceMs` of the newest row, so a row that started earlier but was written later
 * is still shown once; rows that arrive more than `graceMs` late are not. Anchored on the rows' own times
 * (not the database clock), so writers whose clocks differ from the database's are followed all the same.
 */
export class LogFollower {
  private readonly seen = new Map<string, string>(); // id -> position (started_at to the microsecond)
  private readonly where: string;

  private constructor(
    private readonly db: Database,
    private readonly schema: string,
    private readonly table: string,
    private readonly options: FollowOptions,
    private newest: string,
  ) {
    this.where = filterSql(options.filter ?? {});
  }

  /** Starts following: every row there is now counts as old. Call it before reading the rows you show first, then `markShown` them. */
  static async start(db: Database, schema: string, table: string, options: FollowOptions = {}): Promise<LogFollower> {
    if (!((options.graceMs ?? 0) >= 0)) throw new InferlogConfigError(`graceMs must be 0 or more; got ${options.graceMs}`);
    const { newest, readAt } = await tailRecords(db, schema, table, 1, options.filter);
    const follower = new LogFollower(db, schema, table, options, (newest ?? readAt).at);
    for (const { id, at } of await follower.window()) follower.seen.set(id, at);
    return follower;
  }

  /** Rows shown by other means (a first page): never handed over again. */
  markShown(rows: readonly RecordRow[]): void {
    for (const row of rows) {
      const at = micros(row.started_at);
      if (!this.seen.has(row.id)) this.seen.set(row.id, at);
      if (at > this.newest) this.newest = at;
    }
  }

  /** Polls every `intervalMs` and hands new rows to `onRows`, oldest first, until `signal` aborts; rejects when a poll fails. */
  async run(onRows: (rows: RecordRow[]) => void | Promise<void>): Promise<void> {
    const interval = this.options.intervalMs ?? 1000;
    const max = this.options.maxRowsPerPoll ?? 1000;
    if (!(interval > 0) || !(max >= 1)) throw new InferlogConfigError('intervalMs and maxRowsPerPoll must be positive');
    const signal = this.options.signal;
    while (!signal?.aborted) {
      const fresh = (await this.window()).filter((r) => !this.seen.has(r.id)).slice(0, max);
      if (fresh.length > 0) {
        const found = await this.db.any(
          `SELECT * FROM $1:name.$2:name WHERE id = ANY($3::uuid[]) AND started_at >= $4 ORDER BY started_at, id`,
          [this.schema, this.table, fresh.map((r) => r.id), new Date(Date.parse(fresh[0]!.at) - 1)],
        );
        for (const r of fresh) {
          this.seen.set(r.id, r.at);
          if (r.at > this.newest) this.newest = r.at;
        }
        if (signal?.aborted) break;
        await onRows(found.map(toRecordRow));
        // Forget what the next poll cannot list any more (the same bound as its query).
        const from = micros(this.windowStart().toISOString());
        for (const [id, at] of this.seen) if (at < from) this.seen.delete(id);
      }
      await sleep(interval, signal);
    }
  }

  private windowStart(): Date {
    return new Date(Date.parse(this.newest) - (this.options.graceMs ?? 60_000));
  }

  private window(): Promise<{ id: string; at: string }[]> {
    return this.db.any(`SELECT id, ${POSITION_SQL} AS at FROM $1:name.$2:name WHERE $4:raw AND started_at >= $3 ORDER BY started_at, id`, [
      this.schema,
      this.table,
      this.windowStart(),
      this.where,
    ]);
  }
}

/** Follows the log from now (every row there is counts as old) until `signal` aborts: `LogFollower.start` then `run`. */
export async function followRecords(
  db: Database,
  schema: string,
  table: string,
  onRows: (rows: RecordRow[]) => void | Promise<void>,
  options: FollowOptions = {},
): Promise<void> {
  await (await LogFollower.start(db, schema, table, options)).run(onRows);
}
