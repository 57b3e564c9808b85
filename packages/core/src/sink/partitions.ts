import { lockKey } from './migrate';
import type { Database } from './pgp';

/** First instant of the UTC month `offset` months after the one containing `ms`. */
export function monthStart(ms: number, offset = 0): Date {
  const d = new Date(ms);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));
}

export function partitionName(table: string, month: Date): string {
  return `${table}_p${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * Creates the monthly partitions covering `months` (each a month start) that do not exist yet, under the
 * table's advisory lock so concurrent writers do not race on CREATE.
 */
export async function ensurePartitions(db: Database, schema: string, table: string, months: Date[]): Promise<void> {
  await db.tx('inferlog-partitions', async (t) => {
    await t.one('SELECT pg_advisory_xact_lock(hashtext($1)) AS locked', [lockKey(schema)]);
    for (const month of months) {
      const next = monthStart(month.getTime(), 1);
      await t.none('CREATE TABLE IF NOT EXISTS $1:name.$2:name PARTITION OF $1:name.$3:name FOR VALUES FROM ($4) TO ($5)', [
        schema,
        partitionName(table, month),
        table,
        month.toISOString(),
        next.toISOString(),
      ]);
    }
  });
}
