import pgPromise, { type IBaseProtocol } from 'pg-promise';

/**
 * Settings every connection starts with, whatever the database or role defaults say: the driver reads
 * timestamps only in the ISO style, and hashes are made of exact numbers and UTC times, so a session
 * with another DateStyle, fewer float digits or another time zone would read rows that no longer
 * match their hashes.
 */
const SESSION = "SET DateStyle = 'ISO, MDY'; SET extra_float_digits = 3; SET TimeZone = 'UTC'";

/** The one pg-promise instance of the process (pg-promise wants a single instance). */
export const pgp = pgPromise({
  noWarnings: true,
  connect(e) {
    // Queued first on the new connection, so it runs before anything else is sent on it.
    if (e.useCount === 0) (e.client.query(SESSION) as unknown as Promise<unknown>).catch(() => {});
  },
});
export type Database = ReturnType<typeof pgp>;
/** A database, a task or a transaction: anything queries can be sent on. */
export type Queryable = IBaseProtocol<unknown>;
