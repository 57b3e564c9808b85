import type { Database } from '../sink/pgp';

/**
 * Runs `sql` through a server-side cursor and hands its rows to `each`, `batch` rows at a time, inside
 * one read-only transaction: constant memory on tables of any size, and one snapshot for the whole read.
 * `each` may be async: no more than one batch beyond the one it handles is fetched before it resolves.
 */
export async function forEachRow(db: Database, sql: string, params: unknown[], each: (rows: Record<string, unknown>[]) => void | Promise<void>, batch = 2000): Promise<void> {
  await db.tx({ mode: null }, async (t) => {
    await t.none('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await t.none(`DECLARE inferlog_cursor NO SCROLL CURSOR FOR ${sql}`, params);
    const fetch = () => t.any(`FETCH ${batch} FROM inferlog_cursor`);
    // The next rows are fetched while these are handled: the database and the handler work side by side,
    // and at most two batches are in memory.
    for (let rows = await fetch(); rows.length > 0; ) {
      const next = rows.length === batch ? fetch() : Promise.resolve([]);
      try {
        await each(rows);
      } catch (err) {
        await next.catch(() => {});
        throw err;
      }
      rows = await next;
    }
    await t.none('CLOSE inferlog_cursor');
  });
}
