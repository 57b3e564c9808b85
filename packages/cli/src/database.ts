import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openEmbedded, pgp, type Database } from '@inferlog/core/audit';
import { CliError, explain, type LogPlace } from './errors';
import type { CliIo } from './io';

/** The options every command takes to find the log. */
export interface LogOptions {
  database?: string;
  embeddedDir: string;
  schema: string;
  table: string;
}

/** An open connection to the log. */
export interface OpenLog extends LogPlace {
  db: Database;
  /** How to connect to it (the embedded store's local address when it is that), for a pool of one's own. */
  connectionString: string;
  close(): Promise<void>;
}

/** A connection string with its password hidden, for messages: in the URL's user part, in a `password` query parameter, or as a `password=` keyword. */
export function hidePassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) if (/^(ssl)?password$/i.test(key)) u.searchParams.set(key, '***');
    return u.toString().replaceAll('%2A%2A%2A', '***');
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@').replace(/\b((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1***');
  }
}

/**
 * Connects to the log: `--database`, else `DATABASE_URL`, else the embedded store in `--embedded-dir`
 * (which only `create` may start when it does not exist yet). Checks the connection and, unless
 * `create`, that the log table is there, so a wrong URL or schema fails at once with what to do.
 */
export async function openLog(options: LogOptions, io: CliIo, { create = false } = {}): Promise<OpenLog> {
  const url = options.database ?? io.env.DATABASE_URL;
  let connectionString: string;
  let where: string;
  let release = async () => {};
  if (url) {
    connectionString = url;
    where = hidePassword(url);
  } else {
    const dir = resolve(options.embeddedDir);
    if (!create && !existsSync(dir)) {
      throw new CliError(
        `no database: pass --database <url> or set DATABASE_URL (and there is no embedded store in ${dir}; "inferlog migrate" without a database creates one there, for development)`,
      );
    }
    io.stderr.write(`inferlog: no --database or DATABASE_URL: using the embedded store in ${dir} (for development)\n`);
    const embedded = await openEmbedded(dir, { warn: false });
    connectionString = embedded.connectionString;
    where = `the embedded store in ${dir}`;
    release = embedded.release;
  }
  const db = pgp({ connectionString, max: 2, connectionTimeoutMillis: 10_000, application_name: 'inferlog-cli' });
  const log: OpenLog = {
    db,
    connectionString,
    schema: options.schema,
    table: options.table,
    where,
    close: async () => {
      await db.$pool.end();
      await release();
    },
  };
  try {
    const { found } = await db.one('SELECT to_regclass($1) IS NOT NULL AS found', [
      `${pgp.as.name(options.schema)}.${pgp.as.name(options.table)}`,
    ]);
    if (!found && !create) {
      throw new CliError(
        `there is no inference log ${options.schema}.${options.table} in ${where}. Run "inferlog migrate --schema ${options.schema} --table ${options.table}" to create it, or check --database, --schema and --table.`,
      );
    }
  } catch (err) {
    await log.close().catch(() => {});
    throw new CliError(explain(err, log).message, explain(err, log).exitCode);
  }
  return log;
}

/** Opens the log, runs `work`, closes the log; errors come out explained with where the log is. */
export async function withLog<T>(options: LogOptions, io: CliIo, work: (log: OpenLog) => Promise<T>, { create = false } = {}): Promise<T> {
  const log = await openLog(options, io, { create });
  try {
    return await work(log);
  } catch (err) {
    const { message, exitCode } = explain(err, log);
    throw new CliError(message, exitCode);
  } finally {
    await log.close();
  }
}
