// Tamper evidence against a real PostgreSQL: 100,000 records written through the sink and a writer's
// chain verify; each kind of tampering is found and named; the log is append-only for its writer role
// and, by trigger, for its owner too.
import { Chain } from '../packages/core/src/chain/chain';
import { openPostgresSink } from '../packages/core/src/sink/connect';
import { resolveOptions } from '../packages/core/src/options';
import { uuidv7 } from '../packages/core/src/ids';
import { verifyLog } from '@inferlog/core/audit';
import type { InferenceRecord } from '@inferlog/core';
import type { PostgresSink } from '../packages/core/src/sink/postgres-sink';
import { DATABASE_URL, db, dropSchema, EMBEDDED, endPool, serverOnly, uniqueSchema, until } from './helpers';

const schema = uniqueSchema('chain');
// 100,000 against a real PostgreSQL (CI); the embedded one (WASM, no COPY) takes 20,000 in the same time.
const N = Number(process.env.CHAIN_N ?? (EMBEDDED ? 20_000 : 100_000));
let sink: PostgresSink;
let chain: Chain;

function record(i: number, at: number): InferenceRecord {
  return {
    id: uuidv7(at),
    started_at: new Date(at),
    ended_at: new Date(at + 4),
    latency_ms: 4.25,
    request_id: `c-${i}`,
    trace_id: null,
    span_id: null,
    service: 'credit-api',
    service_version: '1.0.0',
    host: 'h',
    method: 'POST',
    route: '/v2/models/:model/infer',
    path: '/v2/models/credit/infer',
    status: i % 50 === 0 ? 400 : 200,
    aborted: false,
    protocol: 'oip-v2',
    model_name: 'credit',
    model_version: '3',
    inference_id: `inf-${i}`,
    parameters: { threshold: 0.5, note: 'ünïcode ✓' },
    inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [i, 0.25, 6, 1] }],
    outputs: [{ name: 'probability', shape: [1, 1], datatype: 'FP32', data: [(i % 100) / 100] }],
    response_parameters: null,
    usage: null,
    error: i % 50 === 0 ? { status: 400, message: 'bad input' } : null,
    request_headers: { 'content-type': 'application/json' },
    response_headers: null,
    request_body: null,
    response_body: null,
    request_bytes: 120,
    response_bytes: 90,
    request_sha256: 'a'.repeat(64),
    response_sha256: 'b'.repeat(64),
    truncated: [],
    redactions: i % 10 === 0 ? ['input:bsn'] : [],
    schema_errors: null,
    annotations: i % 7 === 0 ? { tenant: 'acme', 'key with "quotes"': [1, null, { z: 1, a: 2 }] } : null,
  };
}

/** Runs SQL as the table's owner with triggers off (`session_replication_role = replica`): what an attacker with the owner's rights can do. */
async function asAttacker(sql: string, params: unknown[] = []): Promise<void> {
  await db.tx(async (t) => {
    await t.none('SET LOCAL session_replication_role = replica');
    await t.none(sql, params);
  });
}

const firstProblem = async () => {
  const report = await verifyLog(db, schema, 'inference_log');
  expect(report.ok).toBe(false);
  return report.problems[0];
};
const rowAt = (seq: number) =>
  db.one('SELECT * FROM $1:name.inference_log WHERE chain_id = $2 AND chain_seq = $3', [schema, chain.id, seq]);

beforeAll(async () => {
  sink = await openPostgresSink(resolveOptions({ database: DATABASE_URL, schema }));
  chain = new Chain('record', 'credit-api', '1.0.0');
  await sink.registerChain(chain);
  const start = Date.now() - N;
  for (let from = 0; from < N; from += 2000) {
    const batch = Array.from({ length: Math.min(2000, N - from) }, (_, k) => record(from + k, start + from + k));
    chain.seal(batch);
    await sink.insert(batch);
  }
}, 600_000);

afterAll(async () => {
  await sink.close();
  await dropSchema(schema);
  await endPool();
});

test(`verify passes on a clean log of ${N.toLocaleString('en')} records, in one chain that reaches its recorded head`, async () => {
  const report = await verifyLog(db, schema, 'inference_log');
  expect(report.problems).toEqual([]);
  expect(report).toMatchObject({ ok: true, rows: N });
  expect(report.chains).toEqual([
    {
      chain_id: chain.id,
      table: 'records',
      rows: N,
      first_seq: 1,
      last_seq: N,
      last_hash: chain.last.hash,
      head: { seq: N, hash: chain.last.hash },
      signed: true,
      origin: {
        registered_by: expect.any(String),
        client_addr: expect.any(String),
        backend_start: expect.any(String),
        registered_at: expect.any(String),
      },
      ok: true,
    },
  ]);
}, 300_000);

describe('each tampering is found and the row named', () => {
  test('a changed output', async () => {
    const row = await rowAt(500);
    await asAttacker(
      `UPDATE $1:name.inference_log SET outputs = '[{"name": "probability", "shape": [1, 1], "datatype": "FP32", "data": [0.01]}]' WHERE id = $2`,
      [schema, row.id],
    );
    expect(await firstProblem()).toMatchObject({
      kind: 'changed',
      seq: 500,
      id: row.id,
      message: expect.stringContaining(`row ${row.id} (chain ${chain.id}, seq 500) was changed`),
    });
    await asAttacker('UPDATE $1:name.inference_log SET outputs = $2 WHERE id = $3', [schema, JSON.stringify(row.outputs), row.id]);
  }, 300_000);

  test('a deleted row', async () => {
    const row = await rowAt(700);
    const next = await rowAt(701);
    await asAttacker(
      'CREATE TABLE $1:name.saved AS SELECT * FROM $1:name.inference_log WHERE id = $2; DELETE FROM $1:name.inference_log WHERE id = $2',
      [schema, row.id],
    );
    expect(await firstProblem()).toMatchObject({
      kind: 'missing',
      seq: 700,
      id: next.id,
      message: expect.stringContaining(`seq 700 is missing before row ${next.id} (seq 701)`),
    });
    await asAttacker('INSERT INTO $1:name.inference_log SELECT * FROM $1:name.saved; DROP TABLE $1:name.saved', [schema]);
  }, 300_000);

  test('an inserted row: without a chain, or claiming a position in one', async () => {
    const model = await rowAt(900);
    const fake = uuidv7();
    await asAttacker(
      `INSERT INTO $1:name.inference_log SELECT (jsonb_populate_record(t, jsonb_build_object('id', $2::uuid, 'chain_id', null))).* FROM $1:name.inference_log t WHERE id = $3`,
      [schema, fake, model.id],
    );
    expect(await firstProblem()).toMatchObject({
      kind: 'inserted',
      id: fake,
      message: `row ${fake} belongs to no chain: it was inserted by something other than an inferlog writer (or written before chains existed)`,
    });
    await asAttacker('DELETE FROM $1:name.inference_log WHERE id = $2', [schema, fake]);

    const forged = uuidv7();
    await asAttacker(
      `INSERT INTO $1:name.inference_log SELECT (jsonb_populate_record(t, jsonb_build_object('id', $2::uuid))).* FROM $1:name.inference_log t WHERE id = $3`,
      [schema, forged, model.id],
    );
    const problem = await firstProblem();
    expect(problem).toMatchObject({ kind: 'inserted', seq: 900 });
    expect([model.id, forged]).toContain(problem.id);
    await asAttacker('DELETE FROM $1:name.inference_log WHERE id = $2', [schema, forged]);
  }, 300_000);

  test('two rows swapped, hashes recomputed by an attacker who knows the canonical form', async () => {
    const [a, b] = [await rowAt(1000), await rowAt(1001)];
    const { rowHash } = await import('@inferlog/core/audit');
    const movedA = { ...a, chain_seq: 1001 };
    const movedB = { ...b, chain_seq: 1000 };
    await asAttacker('UPDATE $1:name.inference_log SET chain_seq = $2, record_hash = $3 WHERE id = $4', [
      schema,
      1001,
      rowHash(movedA),
      a.id,
    ]);
    await asAttacker('UPDATE $1:name.inference_log SET chain_seq = $2, record_hash = $3 WHERE id = $4', [
      schema,
      1000,
      rowHash(movedB),
      b.id,
    ]);
    expect(await firstProblem()).toMatchObject({
      kind: 'reordered',
      seq: 1000,
      id: b.id,
      message: expect.stringContaining('does not follow the row before it'),
    });
    await asAttacker('UPDATE $1:name.inference_log SET chain_seq = $2, record_hash = $3 WHERE id = $4', [
      schema,
      1000,
      a.record_hash,
      a.id,
    ]);
    await asAttacker('UPDATE $1:name.inference_log SET chain_seq = $2, record_hash = $3 WHERE id = $4', [
      schema,
      1001,
      b.record_hash,
      b.id,
    ]);
  }, 300_000);

  test('the chain tail cut off', async () => {
    await asAttacker(
      `CREATE TABLE $1:name.saved AS SELECT * FROM $1:name.inference_log WHERE chain_seq > $2; DELETE FROM $1:name.inference_log WHERE chain_seq > $2`,
      [schema, N - 3],
    );
    expect(await firstProblem()).toMatchObject({
      kind: 'truncated',
      seq: N - 2,
      message: `chain ${chain.id} ends at seq ${N - 3} but its writer recorded rows up to seq ${N}: seq ${N - 2}..${N} are missing from the end`,
    });
    await asAttacker('INSERT INTO $1:name.inference_log SELECT * FROM $1:name.saved; DROP TABLE $1:name.saved', [schema]);
  }, 300_000);

  test('every row of a chain deleted', async () => {
    await asAttacker('CREATE TABLE $1:name.saved AS SELECT * FROM $1:name.inference_log; DELETE FROM $1:name.inference_log', [schema]);
    expect(await firstProblem()).toMatchObject({
      kind: 'truncated',
      seq: 1,
      message: `chain ${chain.id} has no rows left but its writer recorded rows up to seq ${N}: all of them are missing`,
    });
    await asAttacker('INSERT INTO $1:name.inference_log SELECT * FROM $1:name.saved; DROP TABLE $1:name.saved', [schema]);
  }, 300_000);

  test('a row appended past the head, hash and link made right by an attacker who knows the canonical form', async () => {
    const { rowHash } = await import('@inferlog/core/audit');
    const last = await rowAt(N);
    const extra = { ...last, id: uuidv7(), chain_seq: N + 1, prev_hash: last.record_hash, request_id: 'appended' };
    extra.record_hash = rowHash(extra);
    await asAttacker(
      `INSERT INTO $1:name.inference_log SELECT (jsonb_populate_record(t, $2::jsonb)).* FROM $1:name.inference_log t WHERE id = $3`,
      [
        schema,
        JSON.stringify({
          id: extra.id,
          chain_seq: extra.chain_seq,
          prev_hash: extra.prev_hash,
          request_id: extra.request_id,
          record_hash: extra.record_hash,
        }),
        last.id,
      ],
    );
    expect(await firstProblem()).toMatchObject({
      kind: 'inserted',
      seq: N + 1,
      message: `chain ${chain.id} goes on to seq ${N + 1} but its writer recorded rows only up to seq ${N}: seq ${N + 1}..${N + 1} were added by something else`,
    });
    await asAttacker('DELETE FROM $1:name.inference_log WHERE id = $2', [schema, extra.id]);
  }, 300_000);

  test('the last row replaced, its hash recomputed: the head the writer recorded tells', async () => {
    const { rowHash } = await import('@inferlog/core/audit');
    const last = await rowAt(N);
    const forged = { ...last, status: 500 };
    await asAttacker('UPDATE $1:name.inference_log SET status = 500, record_hash = $2 WHERE id = $3', [schema, rowHash(forged), last.id]);
    expect(await firstProblem()).toMatchObject({
      kind: 'changed',
      seq: N,
      message: expect.stringContaining(`its last row (seq ${N}) is not the row its writer wrote`),
    });
    await asAttacker('UPDATE $1:name.inference_log SET status = $2, record_hash = $3 WHERE id = $4', [
      schema,
      last.status,
      last.record_hash,
      last.id,
    ]);
  }, 300_000);

  test('rows deleted and a gap written by hand to cover them: no retention run accounts for it', async () => {
    const [first, lastDeleted] = [await rowAt(300), await rowAt(302)];
    const partition = (await db.one('SELECT tableoid::regclass::text AS p FROM $1:name.inference_log WHERE id = $2', [schema, first.id])).p
      .split('.')
      .pop();
    await asAttacker(
      'CREATE TABLE $1:name.saved AS SELECT * FROM $1:name.inference_log WHERE chain_id = $2 AND chain_seq BETWEEN 300 AND 302; DELETE FROM $1:name.inference_log WHERE id IN (SELECT id FROM $1:name.saved)',
      [schema, chain.id],
    );
    const forgeGap = (name: string) =>
      asAttacker('INSERT INTO $1:name.inference_log_gap (chain_id, from_seq, to_seq, last_hash, partition) VALUES ($2, 300, 302, $3, $4)', [
        schema,
        chain.id,
        lastDeleted.record_hash,
        name,
      ]);
    const removeGap = () => asAttacker('DELETE FROM $1:name.inference_log_gap WHERE chain_id = $2', [schema, chain.id]);

    await forgeGap(partition);
    expect(await firstProblem()).toMatchObject({
      kind: 'missing',
      seq: 300,
      message: `chain ${chain.id}: the gap recorded for seq 300..302 was not made by retention (its partition ${partition} still exists): rows were deleted and the gap written to hide it`,
    });
    await removeGap();
    await forgeGap('inference_log_p2001_01');
    expect(await firstProblem()).toMatchObject({
      kind: 'missing',
      seq: 300,
      message: expect.stringContaining('(its partition inference_log_p2001_01 is of a month before the log was created ('),
    });
    await removeGap();
    await asAttacker('INSERT INTO $1:name.inference_log SELECT * FROM $1:name.saved; DROP TABLE $1:name.saved', [schema]);
  }, 300_000);

  test('after every restore the log verifies again', async () => {
    expect(await verifyLog(db, schema, 'inference_log')).toMatchObject({ ok: true, rows: N, problems: [] });
  }, 300_000);
});

test('verify reads heads, gaps and rows in one snapshot: a writer storing rows meanwhile is not taken for tampering', async () => {
  const writer = new Chain('record', 'credit-api', '1.0.0');
  await sink.registerChain(writer);
  let writing = true;
  let written = 0;
  const writes = (async () => {
    while (writing) {
      const batch = Array.from({ length: 50 }, (_, k) => record(written + k, Date.now()));
      writer.seal(batch);
      await sink.insert(batch);
      written += batch.length;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    for (let run = 0; run < 3; run++) {
      const before = written;
      const report = await verifyLog(db, schema, 'inference_log');
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      // PGlite runs one session: verify's snapshot transaction holds the writer's next insert until it
      // ends, so there the writer's rows land between verify runs, not during them.
      if (EMBEDDED) await until(() => written > before, 'the writer to store a batch after verify');
      expect(written).toBeGreaterThan(before);
    }
  } finally {
    writing = false;
    await writes;
  }
  expect(await verifyLog(db, schema, 'inference_log', { chain: writer.id })).toMatchObject({ ok: true, rows: written });
}, 300_000);

describe('append-only', () => {
  test('the writer role may insert but not update or delete; the trigger refuses the owner too', async () => {
    const row = await rowAt(1);
    const asWriter = (sql: string) =>
      db.tx(async (t) => {
        await t.none('SET LOCAL ROLE inferlog_writer');
        await t.none(sql, [schema, row.id]);
      });
    await expect(asWriter('UPDATE $1:name.inference_log SET status = 500 WHERE id = $2')).rejects.toMatchObject({
      code: '42501',
      message: expect.stringMatching(/permission denied/),
    });
    await expect(asWriter('DELETE FROM $1:name.inference_log WHERE id = $2')).rejects.toMatchObject({
      code: '42501',
      message: expect.stringMatching(/permission denied/),
    });
    await expect(asWriter('TRUNCATE $1:name.inference_log')).rejects.toMatchObject({ code: '42501' });
    await expect(
      asWriter(
        `INSERT INTO $1:name.inference_log (id, started_at, ended_at, latency_ms, request_id, method, path, protocol) VALUES (gen_random_uuid(), now(), now(), 1, 'w', 'POST', '/', 'raw') ON CONFLICT (id, started_at) DO NOTHING`,
      ),
    ).resolves.toBeUndefined();
    await db.none("DELETE FROM $1:name.inference_log WHERE request_id = 'w'", [schema]).catch(() => {});

    for (const sql of [
      'UPDATE $1:name.inference_log SET status = 500 WHERE id = $2',
      'DELETE FROM $1:name.inference_log WHERE id = $2',
      'TRUNCATE $1:name.inference_log',
    ]) {
      await expect(db.none(sql, [schema, row.id])).rejects.toMatchObject({ message: expect.stringMatching(/the log is append-only/) });
    }
    expect((await rowAt(1)).status).toBe(row.status);
  });

  serverOnly('PGlite has one session: a logger cannot log in as another role')(
    'a logger logged in as a member of inferlog_writer (migrate: false) writes, gets its partitions, and its chain verifies',
    async () => {
      const { InferenceLogger } = await import('@inferlog/core');
      const { Exchange } = await import('../packages/core/src/capture/exchange');
      const login = `${schema}_app`;
      await db.none('CREATE ROLE $1:name LOGIN IN ROLE inferlog_writer', [login]);
      try {
        const url = new URL(DATABASE_URL);
        url.username = login;
        url.password = '';
        const logger = new InferenceLogger({
          database: url.toString(),
          schema,
          table: 'inference_log',
          migrate: false,
          partitionsAhead: 14,
          spillDir: false,
          onError: () => {},
        });
        await logger.ready();
        const route = logger.options.selector.select('POST', '/v2/models/m/infer', {})!;
        for (let i = 0; i < 5; i++) {
          const x = new Exchange(route, { method: 'POST', url: '/v2/models/m/infer', headers: {} } as never, 1024, null);
          x.status = 200;
          logger.enqueue(x);
        }
        await logger.flush();
        expect(logger.stats()).toMatchObject({ written: 5, dropped: 0 });
        // An event sent again with its id: the writer reads the stored one back (SELECT on events is granted).
        const event = { type: 'human_review', actor: 'reviewer-1', data: { ok: true }, id: '0190a7e4-3333-7000-8000-00000000f00d' };
        const first = await logger.event('w-1', event);
        expect(await logger.event('w-1', event)).toMatchObject({ id: event.id, record_hash: first.record_hash });
        const report = await verifyLog(db, schema, 'inference_log', { chain: logger.chain.id });
        expect(report).toMatchObject({ ok: true, rows: 5 });
        expect(await verifyLog(db, schema, 'inference_log', { tables: ['events'] })).toMatchObject({ ok: true, rows: 1 });
        await logger.close();
        // 14 months ahead were created through the owner's function, not by the writer itself.
        const months = await db.one(
          "SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = $1::regnamespace AND relname ~ '^inference_log_p[0-9]{4}_[0-9]{2}$'",
          [schema],
        );
        expect(months.n).toBeGreaterThanOrEqual(15);
      } finally {
        await db.none('DROP OWNED BY $1:name; DROP ROLE $1:name', [login]);
      }
    },
  );
});
