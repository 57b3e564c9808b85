import { logTableNames } from './names';
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
 * Creates the monthly partitions covering `months` (each a month start) that do not exist yet, through
 * the table's `<table>_add_partition` function (migration 2): it runs with the owner's rights, so a
 * writer role that may only INSERT still gets its partitions, and it takes the schema's advisory lock,
 * so concurrent writers do not race on CREATE.
 */
export async function ensurePartitions(db: Database, schema: string, table: string, months: Date[]): Promise<void> {
  const { addPartition } = logTableNames(schema, table);
  for (const month of months) await db.any('SELECT $1:name.$2:name($3::date)', [schema, addPartition, month.toISOString().slice(0, 10)]);
}
