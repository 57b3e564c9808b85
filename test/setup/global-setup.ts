// The tests always talk to a real PostgreSQL: DATABASE_URL when it is set (CI points it at the local
// server), otherwise an embedded PGlite served over the wire protocol by pglite-socket.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export default async function globalSetup(): Promise<void> {
  // Every directory a test makes goes in here, and the teardown removes it whole.
  process.env.INFERLOG_TEST_TMP = mkdtempSync(join(tmpdir(), 'inferlog-test-run-'));
  if (process.env.DATABASE_URL) {
    console.log(`\ntests use PostgreSQL at ${process.env.DATABASE_URL.replace(/:[^:@/]*@/, ':***@')}`);
    return;
  }
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
  await server.start();
  process.env.DATABASE_URL = `postgres://postgres@${server.getServerConn()}/postgres`;
  process.env.INFERLOG_TEST_EMBEDDED = '1';
  (globalThis as { __inferlogEmbedded?: unknown }).__inferlogEmbedded = { db, server };
  console.log(`\nno DATABASE_URL: tests use an embedded PGlite at ${process.env.DATABASE_URL}`);
}
