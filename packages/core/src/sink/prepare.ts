import { migrate, migrations } from './migrate';
import { ensurePartitions, monthStart, partitionName } from './partitions';
import type { Database } from './pgp';

/** What `prepareLog` did. */
export interface PrepareResult {
  /** Migrations applied now (none when the log was up to date). */
  applied: { version: number; name: string }[];
  /** Every migration the log has now. */
  migrations: { version: number; name: string }[];
  /** The monthly partitions from this month to `monthsAhead` months ahead, and whether each was created now. */
  partitions: { name: string; from: string; created: boolean }[];
}

/**
 * Applies the migrations the log lacks (`migrate`) and creates the monthly partitions from the current
 * month to `monthsAhead` months ahead through the table's `<table>_add_partition` function, as a
 * deployment step before the writers start (or run with `migrate: false` under a role that may only
 * insert).
 */
export async function prepareLog(
  db: Database,
  schema: string,
  table: string,
  monthsAhead = 2,
  now: Date = new Date(),
): Promise<PrepareResult> {
  if (!Number.isInteger(monthsAhead) || monthsAhead < 0 || monthsAhead > 120)
    throw new RangeError(`monthsAhead must be a whole number from 0 to 120; got ${monthsAhead}`);
  const versions = await migrate(db, schema, table);
  const known = migrations();
  const months = Array.from({ length: monthsAhead + 1 }, (_, i) => monthStart(now.getTime(), i));
  const names = months.map((m) => partitionName(table, m));
  const existing = new Set(
    await db.map(
      'SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relname = ANY($2::text[])',
      [pgIdent(schema), names],
      (r) => r.relname as string,
    ),
  );
  await ensurePartitions(db, schema, table, months);
  return {
    applied: known.filter((m) => versions.includes(m.version)).map(({ version, name }) => ({ version, name })),
    migrations: known.map(({ version, name }) => ({ version, name })),
    partitions: months.map((m, i) => ({ name: names[i]!, from: m.toISOString().slice(0, 10), created: !existing.has(names[i]!) })),
  };
}

/** A schema name as regnamespace reads it (quoted, so case and odd characters survive). */
function pgIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
