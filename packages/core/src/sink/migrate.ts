import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logTableNames } from './names';
import { pgp, type Queryable } from './pgp';

interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = join(__dirname, '..', '..', 'migrations');
let loaded: Migration[] | null = null;

/** The versioned SQL files of `migrations/`, in order (`NNN_name.sql`). */
export function migrations(): Migration[] {
  loaded ??= readdirSync(MIGRATIONS_DIR)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number.parseInt(file, 10),
      name: file.replace(/^\d+_|\.sql$/g, ''),
      sql: readFileSync(join(MIGRATIONS_DIR, file), 'utf8'),
    }));
  return loaded;
}

/**
 * Serialises schema changes across every process and table that migrates into `schema`: per schema,
 * not per table, because two tables' first migrations both run CREATE SCHEMA IF NOT EXISTS, which
 * races in PostgreSQL (a unique violation on pg_namespace) when run concurrently.
 */
export function lockKey(schema: string): string {
  return `inferlog:${schema}`;
}

/**
 * Applies the migrations not yet recorded in `<table>_migrations`, each in order, in one transaction
 * under an advisory lock, so replicas starting together migrate once. Returns the versions applied.
 */
export async function migrate(db: Queryable, schema: string, table: string): Promise<number[]> {
  return db.tx('inferlog-migrate', async (t) => {
    await t.one('SELECT pg_advisory_xact_lock(hashtext($1)) AS locked', [lockKey(schema)]);
    await t.none('CREATE SCHEMA IF NOT EXISTS $1:name', [schema]);
    const history = `${table}_migrations`;
    await t.none(
      'CREATE TABLE IF NOT EXISTS $1:name.$2:name (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      [schema, history],
    );
    const done = new Set(await t.map('SELECT version FROM $1:name.$2:name', [schema, history], (r) => r.version as number));
    const applied: number[] = [];
    for (const m of migrations()) {
      if (done.has(m.version)) continue;
      await t.none(pgp.as.format(m.sql, logTableNames(schema, table)));
      await t.none('INSERT INTO $1:name.$2:name (version, name) VALUES ($3, $4)', [schema, history, m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
