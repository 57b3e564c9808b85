import type { ResolvedOptions } from '../options';
import { openEmbedded } from './embedded';
import { pgp } from './pgp';
import { PostgresSink } from './postgres-sink';

/** Opens the configured store (PostgreSQL or the embedded one), migrates it when asked, and returns its sink. */
export async function openPostgresSink(o: ResolvedOptions): Promise<PostgresSink> {
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
  const db = pgp({ max: o.poolSize, connectionTimeoutMillis: 5000, ...config });
  const release = async () => {
    await db.$pool.end();
    await releaseEmbedded();
  };
  const sink = new PostgresSink(db, o.schema, o.table, o.partitionsAhead, release);
  try {
    await sink.prepare(o.migrate);
  } catch (err) {
    await release().catch(() => {});
    throw err;
  }
  return sink;
}
