import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type Express, type RequestHandler } from 'express';
import pgPromise from 'pg-promise';
import type { InferenceLogOptions, InferenceLogStats } from '@inferlog/core';

const pgp = pgPromise({ noWarnings: true });

/** The real PostgreSQL every test talks to (set by the global setup). */
export const DATABASE_URL = process.env.DATABASE_URL as string;
if (!DATABASE_URL) throw new Error('DATABASE_URL is not set: run the tests through jest so the global setup starts a database');

export const db = pgp({ connectionString: DATABASE_URL, max: 2 });

/** A schema name no other test uses, so test files can run side by side. */
export function uniqueSchema(prefix: string): string {
  return `t_${prefix}_${randomBytes(4).toString('hex')}`;
}

/** True when the tests run on the embedded PGlite (no DATABASE_URL was given). */
export const EMBEDDED = process.env.INFERLOG_TEST_EMBEDDED === '1';

/**
 * A fresh directory (a spill journal, an export, an embedded store), inside the directory the global
 * setup made for this run and the global teardown removes.
 */
export function tempDir(prefix = 'inferlog-test-'): string {
  return mkdtempSync(join(process.env.INFERLOG_TEST_TMP ?? tmpdir(), prefix));
}

/**
 * `test` for what only a PostgreSQL server can show. On the embedded store the test is skipped with
 * `reason` in its name, which the summary at the end of the run lists.
 */
export function serverOnly(reason: string): (name: string, fn: () => Promise<unknown>, timeout?: number) => void {
  return (name, fn, timeout) => (EMBEDDED ? test.skip(`${name} [skipped on the embedded store: ${reason}]`, fn) : test(name, fn, timeout));
}

/**
 * Logger options for a test: the test database, its own schema and spill directory, quick flushes. Tests
 * count rows and events: a periodic completeness statement landing in a slow run would change the count,
 * so writers state only at close unless a test asks (the completeness tests set their own interval).
 */
export function logOptions(schema: string, extra: InferenceLogOptions = {}): InferenceLogOptions {
  return {
    database: DATABASE_URL,
    schema,
    spillDir: tempDir(),
    batch: { flushIntervalMs: 20 },
    statementIntervalMs: 3_600_000,
    onError: () => {},
    ...extra,
  };
}

export interface StoredRow {
  [column: string]: any;
}

/** Every row stored in the schema's log table, oldest first. */
export async function storedRows(schema: string, table = 'inference_log'): Promise<StoredRow[]> {
  return db.any('SELECT * FROM $1:name.$2:name ORDER BY started_at, id', [schema, table]);
}

/** Runs SQL as the table's owner with triggers off (`session_replication_role = replica`): what an attacker with the owner's rights can do. */
export async function asAttacker(sql: string, params: unknown[] = []): Promise<void> {
  await db.tx(async (t) => {
    await t.none('SET LOCAL session_replication_role = replica');
    await t.none(sql, params);
  });
}

/** RFC 8785 (JCS) written out by hand for the values tests use (keys sorted at every level, no spaces), independent of inferlog's. */
export const jcs = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(jcs).join(',')}]`
    : v && typeof v === 'object'
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${jcs((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

export async function dropSchema(schema: string): Promise<void> {
  await db.none('DROP SCHEMA IF EXISTS $1:name CASCADE', [schema]);
}

/** Waits until the logger has captured `count` exchanges (responses finish just after clients see them), then flushes. */
export async function settle(
  log: { stats(): InferenceLogStats; flush(): Promise<void> },
  count: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (log.stats().captured + log.stats().dropped < count) {
    if (Date.now() > deadline) throw new Error(`only ${log.stats().captured} of ${count} exchanges were captured`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await log.flush();
}

/** Settles the logger, then the row stored for `requestId` in the schema's log table (throws, with the logger's stats, if there is none). */
export async function storedRow(
  log: { stats(): InferenceLogStats; flush(): Promise<void> },
  schema: string,
  requestId: string,
  expectedCaptured = 1,
): Promise<StoredRow> {
  await settle(log, expectedCaptured);
  const row = (await storedRows(schema)).find((r) => r.request_id === requestId);
  if (!row) throw new Error(`no row with request id ${requestId}: ${JSON.stringify(log.stats())}`);
  return row;
}

/** Polls until `check` holds (or throws after `timeoutMs`). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function endPool(): Promise<void> {
  return db.$pool.end();
}

/** An Express OIP v2 model API behind `log`, answering one FP32 output. */
export function oipApp(log: RequestHandler): Express {
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (req, res) => {
    res.json({ model_name: req.params.model, outputs: [{ name: 'y', shape: [1], datatype: 'FP32', data: [1] }] });
  });
  return app;
}

/** An OIP v2 inference request with one FP32 tensor. */
export function oipRequest(data: number[], id?: string): Record<string, unknown> {
  return { ...(id ? { id } : {}), inputs: [{ name: 'features', shape: [data.length / 4, 4], datatype: 'FP32', data }] };
}

/**
 * Dates the log's creation (migration 1) `months` calendar months back: a log whose records are backdated
 * that far must have existed then, and verify accepts a retention gap only for months since the log was created.
 */
export async function createdMonthsAgo(schema: string, months: number, table = 'inference_log'): Promise<void> {
  await db.none(`UPDATE $1:name.$2:name SET applied_at = applied_at - make_interval(months => $3) WHERE version = 1`, [
    schema,
    `${table}_migrations`,
    months,
  ]);
}
