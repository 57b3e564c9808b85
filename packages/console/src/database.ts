import { pgp, type Database } from '@inferlog/core/audit';

/** The console's connections to the log, and whom they read as. */
export interface ReaderDatabase {
  db: Database;
  /** The role every connection took at its start, or null when it reads as the connecting user. */
  role: string | null;
  /** Why it reads as the connecting user (no such role, the user may not take it, the server ignored it); null when `role` is set. */
  roleNote: string | null;
  /** Whether the server starts every transaction read-only (it ignores startup parameters when it is the embedded store). */
  readOnly: boolean;
  close(): Promise<void>;
}

/**
 * A pool that reads as `role` when the role exists and the connecting user may take it: the role is a
 * startup parameter of every connection (`-c role=…`, which is `SET ROLE`), and every transaction is
 * read-only by default, so the database refuses a write whatever the console's code did.
 */
export async function openReader(database: string, role: string | null, max: number): Promise<ReaderDatabase> {
  const config = { connectionString: database, max, connectionTimeoutMillis: 10_000, application_name: 'inferlog-console' };
  let takeRole: string | null = null;
  let roleNote: string | null = role === null ? 'role option false' : null;
  if (role !== null) {
    const probe = pgp({ ...config, max: 1 });
    try {
      const found = await probe.oneOrNone(`SELECT pg_has_role(current_user, oid, 'MEMBER') AS member FROM pg_roles WHERE rolname = $1`, [
        role,
      ]);
      if (!found) roleNote = `no role ${role} in this database`;
      else if (!found.member) roleNote = `the connecting user may not take role ${role}`;
      else takeRole = role;
    } finally {
      await probe.$pool.end();
    }
  }
  const options = [`-c default_transaction_read_only=on`, ...(takeRole ? [`-c role=${takeRole}`] : [])].join(' ');
  // `options` is node-postgres' startup parameter (pg-promise's typings leave it out).
  const db = pgp({ ...config, options } as Parameters<typeof pgp>[0]);
  // What the server made of them: the embedded store (PGlite behind a socket) runs every connection in one
  // session and ignores startup parameters, so say what holds rather than what was asked.
  try {
    const { who, ro } = await db.one(`SELECT current_user AS who, current_setting('default_transaction_read_only') AS ro`);
    if (takeRole !== null && who !== takeRole) {
      roleNote = `the server ignored the role parameter; reading as ${who}`;
      takeRole = null;
    }
    return { db, role: takeRole, roleNote, readOnly: ro === 'on', close: () => db.$pool.end() };
  } catch (err) {
    await db.$pool.end();
    throw err;
  }
}
