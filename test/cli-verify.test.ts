// `inferlog verify` over the database: 0 on a clean log; after tampering (as the table's owner with the
// triggers off, as in audit-chain.test.ts), non-zero with the row named first; `show` agrees.
import { randomUUID } from 'node:crypto';
import { InferenceLogger } from '@inferlog/core';
import type { VerifyReport } from '@inferlog/core/audit';
import { cli, openWriter, record, type Writer } from './cli-helpers';
import { asAttacker, db, dropSchema, endPool, logOptions, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('cli_verify');
const N = 1000;
let a: Writer;
let b: Writer;
let logger: InferenceLogger;

const rowAt = (chain: string, seq: number) =>
  db.one('SELECT * FROM $1:name.inference_log WHERE chain_id = $2 AND chain_seq = $3', [schema, chain, seq]);
const verifyJson = async (args: string[] = []): Promise<{ code: number; report: VerifyReport }> => {
  const run = await cli(schema, ['verify', '--json', ...args]);
  return { code: run.code, report: JSON.parse(run.stdout) };
};

beforeAll(async () => {
  a = await openWriter(schema, 'api-a');
  b = await openWriter(schema, 'api-b');
  const start = Date.now() - 2 * N;
  await a.write(Array.from({ length: N }, (_, i) => record(i, start + 2 * i)));
  await b.write(Array.from({ length: N }, (_, i) => record(N + i, start + 2 * i + 1)));
  logger = new InferenceLogger(logOptions(schema));
  await logger.ready();
  await logger.event('r-10', { type: 'human_review', actor: 'reviewer-1', data: { decision: 'confirmed' } });
  await logger.event('r-11', { type: 'incident', actor: 'ops', data: { severity: 'low' } });
});

afterAll(async () => {
  await logger.close();
  await a.close();
  await b.close();
  await dropSchema(schema);
  await endPool();
});

test('a clean log: exit 0, a summary per chain (records and events), OK', async () => {
  const { code, report } = await verifyJson();
  expect(code).toBe(0);
  expect(report).toMatchObject({ ok: true, rows: 2 * N + 2, problems: [] });
  expect(report.chains.map((c) => [c.table, c.chain_id, c.rows, c.last_seq, c.ok])).toEqual([
    ...[a.chain.id, b.chain.id].sort().map((id) => ['records', id, N, N, true]),
    ['events', expect.any(String), 2, 2, true],
  ]);
  const text = await cli(schema, ['verify']);
  expect(text.code).toBe(0);
  expect(text.stdout).toContain(`${(2 * N + 2).toLocaleString('en')} rows in 3 chains`);
  expect(text.stdout).toContain('OK: every row matches its hash');
  expect(text.stdout).toContain(a.chain.id);
});

test('a changed row: exit 1, the row named first; show of a later row of that chain fails, of an earlier one passes; the other chain still verifies alone', async () => {
  const row = await rowAt(a.chain.id, 500);
  await asAttacker(`UPDATE $1:name.inference_log SET status = 500 WHERE id = $2`, [schema, row.id]);
  try {
    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    expect(report.problems[0]).toMatchObject({ kind: 'changed', table: 'records', chain_id: a.chain.id, seq: 500, id: row.id });
    const text = await cli(schema, ['verify']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`FIRST PROBLEM: row ${row.id} (chain ${a.chain.id}, seq 500) was changed after it was written`);
    expect(text.stdout).toMatch(/FAILED: 1 problem$/m);

    const later = await rowAt(a.chain.id, 501);
    const shown = await cli(schema, ['show', later.request_id]);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain(`DOES NOT VERIFY: chain ${a.chain.id} through seq 501: row ${row.id}`);
    expect((await cli(schema, ['show', (await rowAt(a.chain.id, 499)).request_id])).code).toBe(0);

    expect((await verifyJson(['--chain', b.chain.id])).report).toMatchObject({ ok: true, rows: N });
    expect((await verifyJson(['--chain', a.chain.id])).code).toBe(1);
  } finally {
    await asAttacker('UPDATE $1:name.inference_log SET status = $2 WHERE id = $3', [schema, row.status, row.id]);
  }
  expect((await verifyJson()).code).toBe(0);
});

test('a deleted row and a changed event are named', async () => {
  const row = await rowAt(b.chain.id, 300);
  const next = await rowAt(b.chain.id, 301);
  await asAttacker(
    'CREATE TABLE $1:name.saved AS SELECT * FROM $1:name.inference_log WHERE id = $2; DELETE FROM $1:name.inference_log WHERE id = $2',
    [schema, row.id],
  );
  const [event] = await db.any("SELECT * FROM $1:name.inference_log_event WHERE type = 'incident'", [schema]);
  await asAttacker(`UPDATE $1:name.inference_log_event SET data = '{"severity": "none"}' WHERE id = $2`, [schema, event.id]);
  try {
    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    expect(report.problems.map((p) => [p.kind, p.table, p.id])).toEqual([
      ['missing', 'records', next.id],
      ['changed', 'events', event.id],
    ]);
    expect((await cli(schema, ['verify'])).stdout).toContain(
      `FIRST PROBLEM: chain ${b.chain.id}: seq 300 is missing before row ${next.id} (seq 301): deleted`,
    );
  } finally {
    await asAttacker('INSERT INTO $1:name.inference_log SELECT * FROM $1:name.saved; DROP TABLE $1:name.saved', [schema]);
    await asAttacker('UPDATE $1:name.inference_log_event SET data = $2 WHERE id = $3', [schema, JSON.stringify(event.data), event.id]);
  }
  expect((await verifyJson()).code).toBe(0);
});

test('--chain: a chain with no rows exits 1, an id that is not a UUID is a usage error; no database reachable exits 3 saying what to do', async () => {
  expect(await cli(schema, ['verify', '--chain', randomUUID()])).toMatchObject({ code: 1, stderr: expect.stringContaining('has no rows') });
  expect(await cli(schema, ['verify', '--chain', 'main'])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('--chain takes a chain id (a UUID'),
  });
  const down = await cli(null, ['verify', '--database', 'postgres://postgres@127.0.0.1:1/none', '--schema', schema]);
  expect(down).toMatchObject({
    code: 3,
    stderr: expect.stringContaining('cannot reach PostgreSQL at postgres://postgres@127.0.0.1:1/none'),
  });
  expect(down.stderr).toContain('Check --database or DATABASE_URL');
  const nothing = await cli(null, ['query', '--embedded-dir', '/nonexistent/inferlog']);
  expect(nothing).toMatchObject({ code: 3, stderr: expect.stringContaining('no database: pass --database <url> or set DATABASE_URL') });
  expect(await cli(null, ['query', '--database', (await import('./helpers')).DATABASE_URL, '--schema', 'no_such_schema'])).toMatchObject({
    code: 3,
    stderr: expect.stringContaining('Run "inferlog migrate --schema no_such_schema --table inference_log" to create it'),
  });
});

test('--against an earlier export: a chain rewritten from some row on, head and all: its head signature fails, and the manifest names the rewritten row', async () => {
  const { join } = await import('node:path');
  const { rowHash } = await import('@inferlog/core/audit');
  const out = join(tempDir('inferlog-against-'), 'log.jsonl');
  expect((await cli(schema, ['export', '--since', '2000-01-01', '--until', 'now', '--format', 'jsonl', '--out', out])).code).toBe(0);
  const manifest = `${out}.manifest.json`;
  const clean = await cli(schema, ['verify', '--against', manifest]);
  expect(clean.code).toBe(0);
  expect(clean.stdout).toContain(': 2,002 exported rows compared with the database\nOK: the database still holds every row of that export');

  // The owner rewrites chain a from seq 900 on (a status changed, every hash after it recomputed) and moves the head.
  const saved = await db.any('SELECT * FROM $1:name.inference_log WHERE chain_id = $2 AND chain_seq >= 900 ORDER BY chain_seq', [
    schema,
    a.chain.id,
  ]);
  let prev = (await rowAt(a.chain.id, 899)).record_hash;
  for (const row of saved) {
    const forged = { ...row, prev_hash: prev, status: row.chain_seq === '900' || row.chain_seq === 900 ? 503 : row.status };
    forged.record_hash = rowHash(forged);
    await asAttacker('UPDATE $1:name.inference_log SET status = $2, prev_hash = $3, record_hash = $4 WHERE id = $5', [
      schema,
      forged.status,
      forged.prev_hash,
      forged.record_hash,
      row.id,
    ]);
    prev = forged.record_hash;
  }
  await asAttacker('UPDATE $1:name.inference_log_chain SET last_hash = $2 WHERE chain_id = $3', [schema, prev, a.chain.id]);
  try {
    // Every row links and the head points at the last one, but the head's signature is not the writer's.
    const alone = (await verifyJson()).report;
    expect(alone.problems).toEqual([expect.objectContaining({ kind: 'forged', chain_id: a.chain.id, seq: N })]);
    const run = await cli(schema, ['verify', '--against', manifest, '--json', '--max-problems', '200']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.problems).toEqual(alone.problems);
    // Every exported row is compared: each rewritten one (seq 900 on) is named, the first where the rewrite starts.
    expect(report.against).toMatchObject({ ok: false, compared: 'rows' });
    expect(report.against.problems.map((p: { seq: number }) => p.seq)).toEqual(Array.from({ length: N - 900 + 1 }, (_, k) => 900 + k));
    expect(report.against.problems[0]).toMatchObject({ kind: 'changed', chain_id: a.chain.id });
    expect(report.against.problems[0].message).toContain('the row was changed or the chain rewritten after that export');
    const text = await cli(schema, ['verify', '--against', manifest]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`FIRST PROBLEM: chain ${a.chain.id} seq 900 (id ${saved[0].id}):`);
    expect(text.stdout).toContain(`FIRST PROBLEM: chain ${a.chain.id}'s head (seq ${N}`);
    expect((await cli(schema, ['verify', '--against', manifest, '--bundle', manifest])).code).toBe(2);
  } finally {
    for (const row of saved)
      await asAttacker('UPDATE $1:name.inference_log SET status = $2, prev_hash = $3, record_hash = $4 WHERE id = $5', [
        schema,
        row.status,
        row.prev_hash,
        row.record_hash,
        row.id,
      ]);
    await asAttacker('UPDATE $1:name.inference_log_chain SET last_hash = $2 WHERE chain_id = $3', [
      schema,
      saved[saved.length - 1].record_hash,
      a.chain.id,
    ]);
  }
  expect((await cli(schema, ['verify', '--against', manifest])).code).toBe(0);
});

test('the export carries the events: show --bundle reads an inference and its events from it; --bundle and --against name a changed event line and an event chain deleted with its registration', async () => {
  const { join } = await import('node:path');
  const { copyFileSync, mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const dir = tempDir('inferlog-events-');
  const out = join(dir, 'log.jsonl');
  const exported = await cli(schema, ['export', '--since', '2000-01-01', '--until', 'now', '--out', out]);
  expect(exported.code).toBe(0);
  expect(exported.stdout).toContain(`events   ${out}.events.jsonl: 2 oversight events about these records`);
  const manifest = `${out}.manifest.json`;
  const bundle = await cli(null, ['verify', '--bundle', manifest]);
  expect(bundle.code).toBe(0);
  expect(bundle.stdout).toContain(`${out}.events.jsonl: 2 oversight events`);
  expect(bundle.stdout).toContain('chains link and end at the heads the manifest records (records and events)');

  const shown = await cli(null, ['show', 'r-10', '--bundle', manifest]);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain('Oversight events (1)');
  expect(shown.stdout).toContain('human_review by reviewer-1 {"decision":"confirmed"}');
  expect(shown.stdout).toContain('its record_hash matches its content');
  expect(await cli(null, ['show', 'r-nothing', '--bundle', manifest])).toMatchObject({ code: 1 });

  // The export's incident event changed in the events file, in a copy of the bundle.
  const copy = mkdtempSync(join(dir, 'tampered-'));
  for (const name of ['log.jsonl', 'log.jsonl.manifest.json']) copyFileSync(join(dir, name), join(copy, name));
  writeFileSync(join(copy, 'log.jsonl.events.jsonl'), readFileSync(`${out}.events.jsonl`, 'utf8').replace('"low"', '"none"'));
  const tampered = await cli(null, ['verify', '--bundle', join(copy, 'log.jsonl.manifest.json')]);
  expect(tampered.code).toBe(1);
  expect(tampered.stdout).toMatch(
    /FIRST PROBLEM: log\.jsonl\.events\.jsonl line 2 \(row 2, id [0-9a-f-]+, chain [0-9a-f-]+ seq 2\): its content does not match its record_hash/,
  );
  const showChanged = await cli(null, ['show', 'r-11', '--bundle', join(copy, 'log.jsonl.manifest.json')]);
  expect(showChanged.code).toBe(1);
  expect(showChanged.stdout).toContain('CHANGED: its content does not match its record_hash');

  // The owner deletes the event chain, rows and registration: verify alone has nothing to see; --against names it.
  const [chain] = await db.any("SELECT * FROM $1:name.inference_log_chain WHERE kind = 'event'", [schema]);
  await asAttacker(
    `CREATE TABLE $1:name.saved_events AS SELECT * FROM $1:name.inference_log_event WHERE chain_id = $2;
     CREATE TABLE $1:name.saved_chain AS SELECT * FROM $1:name.inference_log_chain WHERE chain_id = $2;
     DELETE FROM $1:name.inference_log_event WHERE chain_id = $2; DELETE FROM $1:name.inference_log_chain WHERE chain_id = $2`,
    [schema, chain.chain_id],
  );
  try {
    expect((await cli(schema, ['verify'])).code).toBe(0);
    const against = await cli(schema, ['verify', '--against', manifest]);
    expect(against.code).toBe(1);
    expect(against.stdout).toContain(`FIRST PROBLEM: chain ${chain.chain_id} (event, host ${chain.host}, 2 rows in the export of`);
    expect(against.stdout).toContain('is no longer registered in the database and retention does not drop registrations: deleted');
  } finally {
    await asAttacker(
      `INSERT INTO $1:name.inference_log_chain SELECT * FROM $1:name.saved_chain; INSERT INTO $1:name.inference_log_event SELECT * FROM $1:name.saved_events;
       DROP TABLE $1:name.saved_chain; DROP TABLE $1:name.saved_events`,
      [schema],
    );
  }
  expect((await cli(schema, ['verify', '--against', manifest])).code).toBe(0);
});
