import { pgp, type Database } from '../sink/pgp';
import { exactTypes } from './exact-types';

/** Handles one batch of rows; may be async. */
export type RowHandler = (rows: Record<string, unknown>[]) => void | Promise<void>;
/** Rows per fetch, or a function asked before each fetch. */
export type BatchSize = number | (() => number);

/** A connection inside a read-only snapshot transaction (see `inSnapshot`). */
export type Snapshot = Parameters<Parameters<Database['tx']>[1]>[0];

/** Runs `read` in one read-only REPEATABLE READ transaction: everything it reads is as of one moment. */
export function inSnapshot<T>(db: Database, read: (t: Snapshot) => Promise<T>): Promise<T> {
  return db.tx({ mode: null }, async (t) => {
    await t.none('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    return read(t);
  });
}

/**
 * Runs `sql` through a server-side cursor in the snapshot `t` and hands its rows to `each`, `batch`
 * rows at a time: constant memory on tables of any size. `each` may be async: no more than one batch
 * beyond the one it handles is fetched before it resolves. `batch` may be a function, asked before
 * each fetch, so a reader of wide rows can fetch fewer at a time. `exact` reads values as stored (see
 * exact-types.ts), for whatever recomputes or carries a hash.
 */
export async function forEachRowIn(
  t: Snapshot,
  sql: string,
  params: unknown[],
  each: RowHandler,
  batch: BatchSize = 2000,
  exact = false,
): Promise<void> {
  const size = () => Math.max(1, Math.floor(typeof batch === 'function' ? batch() : batch));
  await t.none(`DECLARE inferlog_cursor NO SCROLL CURSOR FOR ${sql}`, params);
  const fetch = (n: number) =>
    exact
      ? t.any(new pgp.ParameterizedQuery({ text: `FETCH ${n} FROM inferlog_cursor`, types: exactTypes }))
      : t.any(`FETCH ${n} FROM inferlog_cursor`);
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
}

/** `forEachRowIn` in a snapshot of its own. */
export function forEachRow(db: Database, sql: string, params: unknown[], each: RowHandler, batch: BatchSize = 2000): Promise<void> {
  return inSnapshot(db, (t) => forEachRowIn(t, sql, params, each, batch));
}

/** `forEachRowIn` reading values exactly as stored: for what recomputes a hash from the rows or carries them to an export. */
export function forEachStoredRowIn(t: Snapshot, sql: string, params: unknown[], each: RowHandler, batch: BatchSize = 2000): Promise<void> {
  return forEachRowIn(t, sql, params, each, batch, true);
}

/** `forEachStoredRowIn` in a snapshot of its own. */
export function forEachStoredRow(db: Database, sql: string, params: unknown[], each: RowHandler, batch: BatchSize = 2000): Promise<void> {
  return inSnapshot(db, (t) => forEachStoredRowIn(t, sql, params, each, batch));
}
