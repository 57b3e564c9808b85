import { mkdirSync, rmSync } from 'node:fs';
import type { StorePaths } from './paths';

/**
 * Opens PGlite on the data directory and serves it over the PostgreSQL wire protocol on the store's
 * Unix socket. Only the lock holder calls this. Returns the function that stops serving and closes it.
 */
export async function serveStore(paths: StorePaths, maxConnections: number): Promise<() => Promise<void>> {
  // Loaded here, on first use, so that merely installing the package costs nothing at start-up.
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const { PGLiteSocketServer } = require('@electric-sql/pglite-socket') as typeof import('@electric-sql/pglite-socket');
  mkdirSync(paths.dataDir, { recursive: true });
  const db = await PGlite.create(paths.dataDir);
  try {
    mkdirSync(paths.socketDir, { recursive: true, mode: 0o700 });
    rmSync(paths.socketFile, { force: true }); // left by an owner that was killed; the lock says it is gone
    const server = new PGLiteSocketServer({ db, path: paths.socketFile, maxConnections });
    await server.start();
    return async () => {
      await server.stop();
      await db.close();
    };
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
