import { rmSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export default async function globalTeardown(): Promise<void> {
  if (process.env.INFERLOG_TEST_TMP) rmSync(process.env.INFERLOG_TEST_TMP, { recursive: true, force: true });
  const embedded = (globalThis as { __inferlogEmbedded?: { db: PGlite; server: PGLiteSocketServer } }).__inferlogEmbedded;
  if (!embedded) return;
  await embedded.server.stop();
  await embedded.db.close();
}
