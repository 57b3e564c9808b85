import type { Database } from '../sink/pgp';

/**
 * Runs `sql` through a server-side cursor and hands its rows to `each`, `batch` rows at a time, inside
 * one read-only transaction: constant memory on tables of any size, and one snapshot for the whole read.
 * `each` may be async: no more than one batch beyond the one it handles is fetched before it resolves.
 * `batch` may be a function, asked before each fetch, so a reader of wide rows can fetch fewer at a time.
 */
export async function forEachRow(
  db: Database,
  sql: string,
  params: unknown[],
  each: (rows: Record<string, unknown>[]) => void | Promise<void>,
  batch: number | (() => number) = 2000,
): Promise<void> {
  const size = () => Math.max(1, Math.floor(typeof batch === 'function' ? batch() : batch));
  await db.tx({ mode: null }, async (t) => {
    await t.none('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await t.none(`DECLARE inferlog_cursor NO SCROLL CURSOR FOR ${sql}`, params);
    const fetch = (n: number) => t.any(`FETCH ${n} FROM inferlog_cursor`);
    // The next rows are fetched while these are handled: the database and the handler work side by side,
    // and at most two batches are in memory.
    let asked = size();
    for (let rows = await fetch(asked); rows.length > 0; ) {
      const nextSize = size();
      const next = rows.length === asked ? fetch(nextSize) : Promise.resolve([]);
      asked = nextSize;
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
