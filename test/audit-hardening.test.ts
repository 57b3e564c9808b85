// Migration 3 against a real PostgreSQL: partitions in UTC months whatever the session's time zone,
// TRUNCATE refused on every partition, chain heads that only move forward, well-formed gaps; and
// sessions whose role defaults (DateStyle, float digits, time zone) would otherwise change what is read.
import express from 'express';
import request from 'supertest';
import { inferenceLog } from '@inferlog/express';
import { migrate, pgp, verifyLog } from '@inferlog/core/audit';
import { tokenHash } from '../packages/core/src/chain/head-signature';
import { attachedPartitions } from '../packages/core/src/sink/partitions';
import { DATABASE_URL, db, dropSchema, endPool, logOptions, serverOnly, settle, uniqueSchema } from './helpers';

const schema = uniqueSchema('hardening');

beforeAll(async () => {
  await migrate(db as never, schema, 'inference_log');
});

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

const inSession = (settings: string, sql: string, params: unknown[] = []) =>
  db.tx(async (t) => {
    await t.none(settings);
    return t.any(sql, params);
  });

test('a partition made from a session in another time zone still covers a UTC month', async () => {
  await inSession("SET LOCAL TimeZone = 'Pacific/Kiritimati'", 'SELECT $1:name.inference_log_add_partition($2)', [schema, '2027-03-15']);
  await inSession("SET LOCAL TimeZone = 'America/Los_Angeles'", 'SELECT $1:name.inference_log_add_partition($2)', [schema, '2027-04-01']);
  const parts = (await attachedPartitions(db as never, schema, 'inference_log')).filter((p) => p.partition >= 'inference_log_p2027_03');
  expect(parts.map((p) => [p.partition, p.from.toISOString(), p.to.toISOString()])).toEqual([
    ['inference_log_p2027_03', '2027-03-01T00:00:00.000Z', '2027-04-01T00:00:00.000Z'],
    ['inference_log_p2027_04', '2027-04-01T00:00:00.000Z', '2027-05-01T00:00:00.000Z'],
  ]);
});

test('a time far outside any partition is a data error (isolated, not retried), and only the writer may add partitions', async () => {
  await expect(db.any('SELECT $1:name.inference_log_add_partition($2)', [schema, '1999-12-31'])).rejects.toMatchObject({
    code: '22008',
    message: expect.stringContaining('out of range'),
  });
  await expect(db.any('SELECT $1:name.inference_log_add_partition($2)', [schema, '2999-01-01'])).rejects.toMatchObject({ code: '22008' });
  const granted = await db.one(
    "SELECT has_function_privilege('public', $1, 'EXECUTE') AS public, has_function_privilege('inferlog_writer', $1, 'EXECUTE') AS writer",
    [`${schema}.inference_log_add_partition(date)`],
  );
  expect(granted).toEqual({ public: false, writer: true });
});

test('TRUNCATE is refused on each partition and audit table, for the owner too', async () => {
  await db.any('SELECT $1:name.inference_log_add_partition($2)', [schema, new Date().toISOString().slice(0, 10)]);
  const [part] = await attachedPartitions(db as never, schema, 'inference_log');
  for (const table of [part.partition, 'inference_log_audit', 'inference_log_gap', 'inference_log_chain', 'inference_log_event']) {
    await expect(db.none('TRUNCATE $1:name.$2:name', [schema, table])).rejects.toMatchObject({
      message: expect.stringContaining('the log is append-only'),
    });
  }
});

test('a chain head only moves forward, only with its token; its registration cannot be changed or deleted; gaps must be well-formed', async () => {
  const chainId = '01890000-0000-7000-8000-000000000001';
  const token = 't'.repeat(64);
  await db.none(
    "INSERT INTO $1:name.inference_log_chain (chain_id, kind, started_at, public_key, token_hash, statement_interval_ms) VALUES ($2, 'record', now(), $3, $4, 60000)",
    [schema, chainId, 'a'.repeat(64), tokenHash(token)],
  );
  const asWriter = (sql: string) => inSession('SET LOCAL ROLE inferlog_writer', sql, [schema, chainId, token]);
  await expect(
    asWriter(
      "UPDATE $1:name.inference_log_chain SET last_seq = 6, last_hash = 'h6', head_token = $3, updated_at = now() WHERE chain_id = $2",
    ),
  ).resolves.toEqual([]);
  await expect(
    asWriter("UPDATE $1:name.inference_log_chain SET last_seq = 3, last_hash = 'h3', head_token = $3 WHERE chain_id = $2"),
  ).rejects.toMatchObject({ message: expect.stringContaining(`chain ${chainId}'s head may only move forward (from seq 6 to 3)`) });
  await expect(asWriter("UPDATE $1:name.inference_log_chain SET service = 'other' WHERE chain_id = $2")).rejects.toMatchObject({
    code: '42501',
  });
  await expect(
    db.none("UPDATE $1:name.inference_log_chain SET kind = 'event' WHERE chain_id = $2", [schema, chainId]),
  ).rejects.toMatchObject({ message: expect.stringContaining('refused') });
  await expect(db.none('DELETE FROM $1:name.inference_log_chain WHERE chain_id = $2', [schema, chainId])).rejects.toMatchObject({
    message: expect.stringContaining('chains stay registered'),
  });
  expect(
    await db.one('SELECT last_seq::int, last_hash, head_token FROM $1:name.inference_log_chain WHERE chain_id = $2', [schema, chainId]),
  ).toEqual({ last_seq: 6, last_hash: 'h6', head_token: null });

  for (const [from, to] of [
    [11, 5],
    [0, 3],
  ]) {
    await expect(
      db.none("INSERT INTO $1:name.inference_log_gap (chain_id, from_seq, to_seq, last_hash, partition) VALUES ($2, $3, $4, 'x', 'p')", [
        schema,
        chainId,
        from,
        to,
      ]),
    ).rejects.toMatchObject({
      code: '23514',
      message: expect.stringContaining('inferlog_gap_seq'),
    });
  }
});

serverOnly('PGlite has one session and no login roles with their own settings')(
  'a role whose defaults are another DateStyle, time zone and float precision writes and verifies the same rows',
  async () => {
    const login = `${schema}_odd`;
    const odd = uniqueSchema('odd_session');
    await db.none('CREATE ROLE $1:name LOGIN SUPERUSER', [login]);
    await db.none(
      "ALTER ROLE $1:name SET DateStyle = 'SQL, DMY'; ALTER ROLE $1:name SET TimeZone = 'Asia/Kathmandu'; ALTER ROLE $1:name SET extra_float_digits = -3",
      [login],
    );
    const url = new URL(DATABASE_URL);
    url.username = login;
    url.password = '';
    const oddDb = pgp({ connectionString: url.toString(), max: 1 });
    try {
      // What the role's defaults would make of a row, read without inferlog's session settings.
      const plain = (await import('pg-promise')).default({ noWarnings: true })({ connectionString: url.toString(), max: 1 });
      expect(await plain.one('SELECT now()::text AS now, (0.1::float8 + 0.2::float8)::text AS sum')).toMatchObject({
        now: expect.stringMatching(/^\d{2}\/\d{2}\/\d{4} /),
        sum: '0.3',
      });
      await plain.$pool.end();

      const log = inferenceLog(logOptions(odd, { database: url.toString(), routes: [{ path: '/score' }] }));
      const app = express();
      app.use(log);
      app.use(express.json());
      app.post('/score', (_req, res) => res.json({ outputs: [{ name: 'p', datatype: 'FP64', shape: [1], data: [0.1 + 0.2] }] }));
      for (let i = 0; i < 5; i++)
        await request(app)
          .post('/score')
          .send({ inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [1 / 3] }] })
          .expect(200);
      await settle(log, 5);
      await log.close();

      for (const reader of [oddDb, db]) {
        const report = await verifyLog(reader as never, odd, 'inference_log');
        expect(report.problems).toEqual([]);
        expect(report).toMatchObject({ ok: true, rows: 5 + 1 }); // and the writer's final completeness statement
      }
      const row = await oddDb.one('SELECT started_at, outputs FROM $1:name.inference_log LIMIT 1', [odd]);
      expect(row.outputs[0].data).toEqual([0.30000000000000004]);
      expect(Math.abs(row.started_at.getTime() - Date.now())).toBeLessThan(60_000);
    } finally {
      await oddDb.$pool.end();
      await dropSchema(odd);
      await db.none('DROP ROLE $1:name', [login]);
    }
  },
);
