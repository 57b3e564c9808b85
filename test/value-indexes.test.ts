// The indexes on columns whose values a client chooses (issue 19, item 4): no value overflows them, a log
// made by the earlier migrations is upgraded, and the filters of the audit functions still use them.
import { randomBytes } from 'node:crypto';
import { logTableNames, migrate, pgp, queryRecords, showInference } from '@inferlog/core/audit';
import { filterSql } from '../packages/core/src/audit/filter';
import { migrations } from '../packages/core/src/sink/migrate';
import { ensurePartitions, monthStart } from '../packages/core/src/sink/partitions';
import { openPostgresSink } from '../packages/core/src/sink/connect';
import { resolveOptions } from '../packages/core/src/options';
import { openWriter, record } from './cli-helpers';
import { DATABASE_URL, db, dropSchema, endPool, uniqueSchema } from './helpers';

const audit = pgp({ connectionString: DATABASE_URL, max: 2 });
const schemas: string[] = [];

afterAll(async () => {
  await audit.$pool.end();
  for (const schema of schemas) await dropSchema(schema);
  await endPool();
});

/** Random text that PostgreSQL cannot compress below the btree limit. */
const incompressible = (bytes: number) => randomBytes(bytes).toString('base64').slice(0, bytes);

/** A log made by migrations 1 to 3 only, as the previous release left it, with a partition for this month. */
async function oldLog(schema: string, table: string): Promise<void> {
  schemas.push(schema);
  await db.none('CREATE SCHEMA $1:name', [schema]);
  await db.none(
    'CREATE TABLE $1:name.$2:name (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    [schema, `${table}_migrations`],
  );
  for (const m of migrations().filter((m) => m.version <= 3)) {
    await db.none(pgp.as.format(m.sql, logTableNames(schema, table)));
    await db.none('INSERT INTO $1:name.$2:name (version, name) VALUES ($3, $4)', [schema, `${table}_migrations`, m.version, m.name]);
  }
  await ensurePartitions(db as never, schema, table, [monthStart(Date.now())]);
}

/** Each index of a table (the parent, or a partition) as `<access method> <columns or expressions>`. */
async function indexes(schema: string, relation: string): Promise<string[]> {
  const rows = await db.any(
    `SELECT a.amname || ' ' || regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING \\w+ ', '') AS index
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
      WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass ORDER BY 1`,
    [schema, relation],
  );
  return rows.map((r) => r.index);
}

const NEW_LOG_INDEXES = ['brin (started_at)', 'btree ("left"(model_name, 256), started_at)', 'hash (request_id)'];

test('a log made by the previous migrations is upgraded: its btree indexes on client values are replaced, and long values are stored', async () => {
  const schema = uniqueSchema('upgrade');
  const table = 'inference_log';
  const names = logTableNames(schema, table);
  await oldLog(schema, table);
  const partition = `${table}_p${new Date().toISOString().slice(0, 7).replace('-', '_')}`;
  // The old indexes refuse a 3 KB model name.
  const old = await openPostgresSink(resolveOptions({ database: DATABASE_URL, schema, migrate: false }));
  const before = record(1, Date.now(), { model_name: incompressible(3360) });
  await expect(old.insert([before])).rejects.toThrow(/index row size \d+ exceeds btree version 4 maximum 2704/);
  await old.close();
  expect(await indexes(schema, table)).toContain('btree (model_name, started_at)');

  expect(await migrate(db as never, schema, table)).toEqual(
    migrations()
      .filter((m) => m.version > 3)
      .map((m) => m.version),
  );
  for (const relation of [table, partition]) {
    const now = await indexes(schema, relation);
    expect(now.filter((i) => !/\(id, started_at\)|\(chain_id, chain_seq\)/.test(i))).toEqual(NEW_LOG_INDEXES);
  }
  expect((await indexes(schema, names.events)).filter((i) => !/\(id\)|\(chain_id, chain_seq\)/.test(i))).toEqual([
    "btree (created_at) WHERE (type = 'inferlog.completeness'::text)",
    'hash (subject)',
  ]);
  // Migrating again does nothing.
  expect(await migrate(db as never, schema, table)).toEqual([]);

  const upgraded = await openWriter(schema);
  const values = [3 * 1024, 10 * 1024, 1_000_000].map((size) => incompressible(size));
  const rows = values.map((v, i) => record(10 + i, Date.now(), { model_name: v, model_version: v, request_id: v, inference_id: v }));
  await upgraded.write(rows);
  await upgraded.close();
  for (const [i, v] of values.entries()) {
    expect((await queryRecords(audit, schema, table, { model: v, version: v })).rows.map((r) => r.id)).toEqual([rows[i]!.id]);
    expect((await showInference(audit, schema, table, v, { verify: false })).inferences.map((x) => x.record.id)).toEqual([rows[i]!.id]);
  }
});

test('a new log gets the same indexes as an upgraded one', async () => {
  const schema = uniqueSchema('fresh');
  schemas.push(schema);
  await migrate(db as never, schema, 'inference_log');
  const indexed = (await indexes(schema, 'inference_log')).filter((i) => !/\(id, started_at\)|\(chain_id, chain_seq\)/.test(i));
  expect(indexed).toEqual(NEW_LOG_INDEXES);
});

test('the filters by model, version and request id, and the event lookup, use an index', async () => {
  const schema = uniqueSchema('plans');
  schemas.push(schema);
  const writer = await openWriter(schema);
  const model = incompressible(4000);
  await writer.write(Array.from({ length: 50 }, (_, i) => record(i, Date.now() - i * 1000, { model_name: i % 2 ? model : `m${i}` })));
  await writer.close();
  const table = `${schema}.inference_log`;
  const plan = (sql: string) =>
    db.tx(async (t) => {
      await t.none('SET LOCAL enable_seqscan = off');
      return (await t.any(`EXPLAIN ${sql}`)).map((r) => r['QUERY PLAN']).join('\n');
    });
  // The conditions as the audit functions build them (query, tail, stats, export take filterSql).
  expect(await plan(`SELECT * FROM ${table} WHERE ${filterSql({ model })} ORDER BY started_at`)).toMatch(
    /Index Cond: \("left"\(model_name, 256\) = /,
  );
  expect(await plan(`SELECT * FROM ${table} WHERE ${filterSql({ model, version: '1' })}`)).toMatch(
    /Index Cond: \("left"\(model_name, 256\) = /,
  );
  expect(await plan(`SELECT * FROM ${table} WHERE request_id = 'r-3'`)).toMatch(/Index Cond: \(request_id = /);
  expect(await plan(`SELECT * FROM ${schema}.inference_log_event WHERE subject = ANY(ARRAY['a', 'b'])`)).toMatch(
    /Index Cond: \(subject = ANY/,
  );
  expect((await queryRecords(audit, schema, 'inference_log', { model })).rows).toHaveLength(25);
});
