import { logTableNames } from './names';
import type { Queryable } from './pgp';

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
export async function ensurePartitions(db: Queryable, schema: string, table: string, months: Date[]): Promise<void> {
  const { addPartition } = logTableNames(schema, table);
  for (const month of months) await db.any('SELECT $1:name.$2:name($3::date)', [schema, addPartition, month.toISOString().slice(0, 10)]);
}

/** A monthly partition attached to a log table, with its bounds as PostgreSQL has them. */
export interface AttachedPartition {
  partition: string;
  /** Lower bound (inclusive). */
  from: Date;
  /** Upper bound (exclusive). */
  to: Date;
}

/**
 * The monthly partitions (`<table>_pYYYY_MM`, in the table's schema) attached to a log table, oldest
 * first, with their bounds read from the catalog. The bounds' text is cast back to timestamptz in the
 * same session, so the server's TimeZone and DateStyle cannot skew them. A default partition, one
 * bounded by MINVALUE/MAXVALUE or one named otherwise is not listed.
 */
export async function attachedPartitions(db: Queryable, schema: string, table: string): Promise<AttachedPartition[]> {
  const rows = await db.any(
    `SELECT c.relname AS partition, b[1]::timestamptz AS "from", b[2]::timestamptz AS "to"
       FROM pg_catalog.pg_inherits i
       JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
       JOIN pg_catalog.pg_namespace n ON n.oid = p.relnamespace
       JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid AND c.relnamespace = p.relnamespace
       CROSS JOIN LATERAL regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid), '^FOR VALUES FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)$') AS b
      WHERE n.nspname = $1 AND p.relname = $2 AND b IS NOT NULL
      ORDER BY 2, 1`,
    [schema, table],
  );
  const monthly = (name: string) => name.startsWith(`${table}_p`) && /^\d{4}_\d{2}$/.test(name.slice(table.length + 2));
  return rows.filter((r) => monthly(r.partition)).map((r) => ({ partition: r.partition, from: r.from, to: r.to }));
}
