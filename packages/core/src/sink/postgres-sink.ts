import { from as copyFrom } from 'pg-copy-streams';
import type { InferenceRecord } from '../record/record';
import { JSONB_COLUMNS, RECORD_COLUMNS } from '../record/record';
import { toJsonb, toText } from '../record/sanitize';
import { toCopyText } from './copy-text';
import { migrate } from './migrate';
import { ensurePartitions, monthStart } from './partitions';
import { pgp, type Database } from './pgp';

/** Strings (also inside text[]) without U+0000, which PostgreSQL refuses. */
function textValue(value: unknown): unknown {
  if (typeof value === 'string') return toText(value);
  return Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? toText(v) : v)) : value;
}

/** Where records go. The sink is an interface so another store (a queue, Citus) can replace PostgreSQL. */
export interface RecordSink {
  insert(records: InferenceRecord[]): Promise<void>;
  close(): Promise<void>;
}

const UNIQUE_VIOLATION = '23505';
const COPY_TIMEOUT_MS = 60_000;

/**
 * Writes each batch with one COPY (the fastest way into PostgreSQL). COPY cannot skip rows that exist,
 * so when a batch meets a row already stored (a retry of a batch whose first attempt did commit, or a
 * replay) it is written again with a multi-row INSERT … ON CONFLICT DO NOTHING: never a duplicate.
 */
export class PostgresSink implements RecordSink {
  private readonly columns: InstanceType<typeof pgp.helpers.ColumnSet>;
  private readonly conflict: string;
  private readonly copySql: string;
  private readonly months = new Set<number>();
  /** Batches written by COPY and by the idempotent INSERT, for tests and benchmarks. */
  readonly writes = { copy: 0, insert: 0 };
  /** Whether the server takes COPY FROM STDIN: PGlite behind pglite-socket does not (its socket does not relay COPY data). */
  private copySupported = true;

  constructor(
    private readonly db: Database,
    private readonly schema: string,
    private readonly table: string,
    private readonly partitionsAhead: number,
    private readonly release: () => Promise<void>,
  ) {
    this.columns = new pgp.helpers.ColumnSet(
      RECORD_COLUMNS.map((name) => {
        if (JSONB_COLUMNS.has(name)) return { name, cast: 'jsonb', init: (c: { value: unknown }) => toJsonb(c.value) };
        if (name === 'truncated' || name === 'redactions') return { name, cast: 'text[]', init: (c: { value: unknown }) => textValue(c.value) };
        return { name, init: (c: { value: unknown }) => textValue(c.value) };
      }),
      { table: { schema, table } },
    );
    this.conflict = ' ON CONFLICT (id, started_at) DO NOTHING';
    this.copySql = pgp.as.format('COPY $1:name.$2:name ($3:name) FROM STDIN', [schema, table, RECORD_COLUMNS]);
  }

  /** Migrates (when asked) and creates the partitions from this month to `partitionsAhead` months ahead. */
  async prepare(runMigrations: boolean): Promise<void> {
    if (runMigrations) await migrate(this.db, this.schema, this.table);
    await this.ensureMonths([Date.now()]);
    const { version } = await this.db.one('SELECT version() AS version');
    this.copySupported = !/PGlite/i.test(version);
  }

  async insert(records: InferenceRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.ensureMonths(records.map((r) => r.started_at.getTime()));
    if (!this.copySupported) return this.insertIdempotent(records);
    try {
      await this.copy(records);
      this.writes.copy++;
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      await this.insertIdempotent(records);
    }
  }

  /** The batch as one multi-row INSERT that skips rows already stored. */
  async insertIdempotent(records: InferenceRecord[]): Promise<void> {
    await this.db.none(pgp.helpers.insert(records, this.columns) + this.conflict);
    this.writes.insert++;
  }

  private async copy(records: InferenceRecord[]): Promise<void> {
    const text = toCopyText(records);
    const connection = await this.db.connect();
    let broken = false;
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = (connection.client as unknown as { query<T>(submittable: T): T }).query(copyFrom(this.copySql));
        const timer = setTimeout(() => reject(new Error(`COPY did not finish within ${COPY_TIMEOUT_MS} ms`)), COPY_TIMEOUT_MS);
        stream.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        stream.on('finish', () => {
          clearTimeout(timer);
          resolve();
        });
        stream.end(text);
      });
    } catch (err) {
      // A failed COPY leaves nothing behind, but only a server-side error leaves the connection usable.
      broken = typeof (err as { code?: string }).code !== 'string' || !/^[0-9A-Z]{5}$/.test((err as { code: string }).code);
      throw err;
    } finally {
      connection.done(broken);
    }
  }

  async close(): Promise<void> {
    await this.release();
  }

  private async ensureMonths(times: number[]): Promise<void> {
    const missing = new Map<number, Date>();
    for (const ms of times) {
      if (this.months.has(monthStart(ms).getTime())) continue;
      for (let ahead = 0; ahead <= this.partitionsAhead; ahead++) {
        const month = monthStart(ms, ahead);
        if (!this.months.has(month.getTime())) missing.set(month.getTime(), month);
      }
    }
    if (missing.size === 0) return;
    await ensurePartitions(this.db, this.schema, this.table, [...missing.values()]);
    for (const key of missing.keys()) this.months.add(key);
  }
}
