import type { Database } from './pgp';

/** A connection of the pool, held for one piece of work. */
export type Connection = Awaited<ReturnType<Database['connect']>>;

/** The socket under a pg client (not in pg's types). */
function socketOf(connection: Connection): { destroy(): void } | undefined {
  return (connection.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
}

/** A round trip to PostgreSQL that got no answer within its deadline. */
export class DatabaseTimeoutError extends Error {
  override readonly name = 'DatabaseTimeoutError';
  constructor(what: string, ms: number) {
    super(`${what}: PostgreSQL did not answer within ${ms} ms (a silent network or a stuck server); the connection was dropped`);
  }
}

/** Whether an error came from the server (a SQLSTATE): the connection is still in step with it. */
export function isServerError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/**
 * Runs `work` on a connection of its own, the connect included, within `ms`. When the deadline passes
 * the connection's socket is destroyed: the work fails at once instead of waiting for an answer that a
 * silent network never brings, and a late answer can never reach a later query. A connection is also
 * dropped (not returned to the pool) when the work calls `discard` or fails with an error that is not
 * the server's, since it may be out of step; `keep` lists errors of the caller's own that leave it fine.
 */
export async function withDeadline<T>(
  db: Database,
  what: string,
  ms: number,
  work: (connection: Connection, discard: () => void) => Promise<T>,
  keep: (err: unknown) => boolean = () => false,
): Promise<T> {
  let connection: Connection | null = null;
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      if (connection) socketOf(connection)?.destroy();
      reject(new DatabaseTimeoutError(what, ms));
    }, ms);
  });
  const run = (async () => {
    const c = (await db.connect()) as Connection;
    if (expired) {
      c.done(true);
      throw new DatabaseTimeoutError(what, ms);
    }
    connection = c;
    let drop = false;
    try {
      return await work(c, () => {
        drop = true;
      });
    } catch (err) {
      if (!isServerError(err) && !keep(err)) drop = true;
      throw err;
    } finally {
      c.done(expired || drop);
    }
  })();
  run.catch(() => {}); // when the deadline won the race, the work's own failure is expected and not news
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
