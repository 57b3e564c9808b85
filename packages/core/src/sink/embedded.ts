import { mkdirSync } from 'node:fs';

interface Running {
  connectionString: string;
  users: number;
  stop: () => Promise<void>;
}

const running = new Map<string, Promise<Running>>();
let warned = false;

/**
 * Starts (or shares, within this process) the embedded PostgreSQL: PGlite on `dataDir`, served over the
 * PostgreSQL wire protocol by pglite-socket on a free loopback port, so the same pg-promise sink and SQL
 * serve it. Returns its connection string and a release function. The first call in a process warns that
 * the store is meant for development, unless `warn: false` (a tool that says so itself).
 */
export async function acquireEmbedded(dataDir: string, { warn = true }: { warn?: boolean } = {}): Promise<{ connectionString: string; release: () => Promise<void> }> {
  if (warn && !warned) {
    warned = true;
    process.emitWarning(
      `logging to the embedded PGlite store in ${dataDir}, which is meant for development. ` +
        'Set DATABASE_URL or the "database" option to log to PostgreSQL.',
      { code: 'INFERLOG_EMBEDDED' },
    );
  }
  let starting = running.get(dataDir);
  if (!starting) {
    starting = start(dataDir);
    running.set(dataDir, starting);
    starting.catch(() => running.delete(dataDir));
  }
  const server = await starting;
  server.users++;
  let released = false;
  return {
    connectionString: server.connectionString,
    release: async () => {
      if (released) return;
      released = true;
      if (--server.users === 0) {
        running.delete(dataDir);
        await server.stop();
      }
    },
  };
}

async function start(dataDir: string): Promise<Running> {
  // Loaded only here, so deployments with a real PostgreSQL never load the WASM build.
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const { PGLiteSocketServer } = require('@electric-sql/pglite-socket') as typeof import('@electric-sql/pglite-socket');
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  return {
    connectionString: `postgres://postgres@${server.getServerConn()}/postgres`,
    users: 0,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
