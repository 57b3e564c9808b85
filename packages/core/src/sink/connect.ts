import { openEmbedded } from './embedded';
import { pgp } from './pgp';
import { PostgresSink } from './postgres-sink';

/** Where the log is and how to open it (the logger's options satisfy it). */
export interface StoreSettings {
  /** A connection string, a pg connection config, or `'embedded'`. */
  database: string | object;
  embeddedDir: string;
  poolSize: number;
  databaseTimeoutMs: number;
  schema: string;
  table: string;
  partitionsAhead: number;
  migrate: boolean;
}

/** Opens the configured store (PostgreSQL or the embedded one), migrates it when asked, and returns its sink. */
export async function openPostgresSink(o: StoreSettings): Promise<PostgresSink> {
  let connection: string | object;
  let releaseEmbedded = async () => {};
  if (o.database === 'embedded') {
    const embedded = await openEmbedded(o.embeddedDir);
    connection = embedded.connectionString;
    releaseEmbedded = embedded.release;
  } else {
    connection = o.database;
  }
  const config = typeof connection === 'string' ? { connectionString: connection } : connection;
  // Keepalive probes find idle connections that died (a partition while nothing was sent). Idle connections
  // never keep the app's process alive: one that ends without close() exits once its records and final
  // completeness statement are written (delivery/exit-flush.ts), not when the pool's idle timeout passes.
  const db = pgp({
    max: o.poolSize,
    allowExitOnIdle: true,
    connectionTimeoutMillis: o.databaseTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...config,
  });
  const release = async () => {
    await db.$pool.end();
    await releaseEmbedded();
  };
  const sink = new PostgresSink(db, o.schema, o.table, o.partitionsAhead, release, o.databaseTimeoutMs);
  try {
    await sink.prepare(o.migrate);
  } catch (err) {
    await release().catch(() => {});
    throw err;
  }
  return sink;
}
