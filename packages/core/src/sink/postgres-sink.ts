import type { InferenceRecord } from '../record/record';
import { JSONB_COLUMNS, RECORD_COLUMNS } from '../record/record';
import { toJsonb, toText } from '../record/sanitize';
import { migrate } from './migrate';
import { ensurePartitions, monthStart } from './partitions';
import { pgp, type Database } from './pgp';

const TEXT_COLUMNS: ReadonlySet<string> = new Set(['request_body', 'response_body']);

/** Where records go. The sink is an interface so another store (a queue, Citus) can replace PostgreSQL. */
export interface RecordSink {
  insert(records: InferenceRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** Writes batches with one multi-row INSERT … ON CONFLICT DO NOTHING, so a retried batch never duplicates. */
export class PostgresSink implements RecordSink {
  private readonly columns: InstanceType<typeof pgp.helpers.ColumnSet>;
  private readonly conflict: string;
  private readonly months = new Set<number>();

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
        if (TEXT_COLUMNS.has(name)) return { name, init: (c: { value: unknown }) => toText(c.value as string | null) };
        if (name === 'truncated' || name === 'redactions') return { name, cast: 'text[]' };
        return { name };
      }),
      { table: { schema, table } },
    );
    this.conflict = ' ON CONFLICT (id, started_at) DO NOTHING';
  }

  /** Migrates (when asked) and creates the partitions from this month to `partitionsAhead` months ahead. */
  async prepare(runMigrations: boolean): Promise<void> {
    if (runMigrations) await migrate(this.db, this.schema, this.table);
    await this.ensureMonths([Date.now()]);
  }

  async insert(records: InferenceRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.ensureMonths(records.map((r) => r.started_at.getTime()));
    await this.db.none(pgp.helpers.insert(records, this.columns) + this.conflict);
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
