// A retention gap written by hand to hide deleted rows: as the table's owner with the triggers off
// (`session_replication_role = replica`, as in audit-chain.test.ts), rows of a record chain and of an
// event chain are deleted and gap rows (with a retention audit row, or none) written to cover them.
// verify names each gap no `inferlog retention` run could have made; verify --against an export taken
// before reads every exported row and names the rows deleted.
import { InferenceLogger } from '@inferlog/core';
import { compareWithManifest, exportLog, verifyLog, type AnchorReport, type ExportResult } from '@inferlog/core/audit';
import { dirname, join } from 'node:path';
import { rmSync } from 'node:fs';
import { openWriter, record, type Writer } from './cli-helpers';
import { asAttacker, db, dropSchema, endPool, logOptions, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('gap_forgery');
const dir = tempDir('inferlog-gap-forgery-');
const start = Date.now() - 60_000;
let writer: Writer;
/** A second writer of 5 records: the chain deleted whole. */
let batch: Writer;
let reviews: InferenceLogger;
let before: ExportResult;
let eventChain: string;
let created: string;

const month = (d: Date) => `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
const thisMonth = `inference_log_p${month(new Date()).replace('-', '_')}`;

beforeAll(async () => {
  writer = await openWriter(schema, 'api');
  await writer.write(Array.from({ length: 40 }, (_, i) => record(i, start + i * 10)));
  batch = await openWriter(schema, 'batch');
  await batch.write(Array.from({ length: 5 }, (_, i) => record(100 + i, start + 1000 + i)));
  reviews = new InferenceLogger(logOptions(schema, { service: 'review-desk' }));
  await reviews.ready();
  for (let i = 0; i < 5; i++) await reviews.event(`r-${i}`, { type: 'human_review', actor: 'reviewer-1', data: { n: i } });
  eventChain = (await db.one("SELECT chain_id FROM $1:name.inference_log_chain WHERE kind = 'event'", [schema])).chain_id;
  created = month((await db.one('SELECT applied_at FROM $1:name.inference_log_migrations WHERE version = 1', [schema])).applied_at);
  before = await exportLog(db, schema, 'inference_log', { format: 'jsonl', out: join(dir, 'before.jsonl') });
  expect(await verifyLog(db, schema, 'inference_log')).toMatchObject({ ok: true, problems: [] });
}, 120_000);

afterAll(async () => {
  await reviews.close();
  await batch.close();
  await writer.close();
  await dropSchema(schema);
  await endPool();
  rmSync(dir, { recursive: true, force: true });
});

interface Hidden {
  relation: 'inference_log' | 'inference_log_event';
  chain: string;
  from: number;
  to: number;
  partition: string;
}

/**
 * Deletes the rows of each stretch and writes a gap row over it (last_hash: the last row deleted), and,
 * with `audited`, a retention audit row listing the partitions, all in one transaction; runs `check`,
 * then puts everything back and checks the log verifies again.
 */
async function hidden(stretches: Hidden[], audited: string[] | null, check: () => Promise<void>): Promise<void> {
  const sql = stretches.map(
    (
      s,
      i,
    ) => `CREATE TABLE $1:name.saved_${i} AS SELECT * FROM $1:name.${s.relation} WHERE chain_id = '${s.chain}' AND chain_seq BETWEEN ${s.from} AND ${s.to};
      INSERT INTO $1:name.inference_log_gap (chain_id, from_seq, to_seq, last_hash, partition)
        SELECT chain_id, ${s.from}, ${s.to}, record_hash, '${s.partition}' FROM $1:name.${s.relation} WHERE chain_id = '${s.chain}' AND chain_seq = ${s.to};
      DELETE FROM $1:name.${s.relation} WHERE chain_id = '${s.chain}' AND chain_seq BETWEEN ${s.from} AND ${s.to};`,
  );
  if (audited)
    sql.push(
      `INSERT INTO $1:name.inference_log_audit (actor, action, reason, details) VALUES ('ops', 'retention', 'keep 6mo', '${JSON.stringify({ partitions: audited.map((partition) => ({ partition })) })}');`,
    );
  await asAttacker(sql.join('\n'), [schema]);
  try {
    await check();
  } finally {
    await asAttacker(
      [
        ...stretches.map((s, i) => `INSERT INTO $1:name.${s.relation} SELECT * FROM $1:name.saved_${i}; DROP TABLE $1:name.saved_${i};`),
        'DELETE FROM $1:name.inference_log_gap;',
        "DELETE FROM $1:name.inference_log_audit WHERE action = 'retention';",
      ].join('\n'),
      [schema],
    );
  }
  expect(await verifyLog(db, schema, 'inference_log')).toMatchObject({ ok: true, problems: [] });
}

/** verify names the gap as not made by retention, for this reason. */
async function verifyNames(table: 'records' | 'events', chain: string, from: number, to: number, reason: string): Promise<void> {
  const report = await verifyLog(db, schema, 'inference_log');
  expect(report.ok).toBe(false);
  expect(report.problems).toContainEqual({
    kind: 'missing',
    table,
    chain_id: chain,
    seq: from,
    id: null,
    message: `chain ${chain}: the gap recorded for seq ${from}..${to} was not made by retention (${reason}): rows were deleted and the gap written to hide it`,
  });
}

/** verify --against the export taken before: every row compared; these problems, in this order. */
async function against(): Promise<AnchorReport> {
  const report = await compareWithManifest(db, schema, 'inference_log', before.manifest, { dir: dirname(before.manifestPath) });
  expect(report).toMatchObject({ ok: false, compared: 'rows', dropped: 0 });
  return report;
}

const ids = async (relation: string, chain: string, from: number, to: number): Promise<string[]> =>
  (
    await db.any(`SELECT id FROM $1:name.$2:name WHERE chain_id = $3 AND chain_seq BETWEEN $4 AND $5 ORDER BY chain_seq`, [
      schema,
      relation,
      chain,
      from,
      to,
    ])
  ).map((r) => r.id);
/** How --against names the export. */
const exportOf = () => `the export of ${before.manifest.exported_at}`;

test('verify --against an untouched log compares every exported row, records and events', async () => {
  expect(await compareWithManifest(db, schema, 'inference_log', before.manifest, { dir: dirname(before.manifestPath) })).toEqual({
    ok: true,
    compared: 'rows',
    checked: 45 + 5,
    dropped: 0,
    problems: [],
  });
  // Without the files, only each chain's ends, and why.
  expect(await compareWithManifest(db, schema, 'inference_log', before.manifest)).toMatchObject({
    ok: true,
    compared: 'ends',
    ends_only_because: "no directory with the export's files was given",
  });
});

test('rows deleted behind gaps with a made-up partition and a retention audit row naming it (records and events): named by verify and by --against', async () => {
  const rc = writer.chain.id;
  const [r20, r30] = [(await ids('inference_log', rc, 20, 20))[0], (await ids('inference_log', rc, 30, 30))[0]];
  const [e2, e3] = await ids('inference_log_event', eventChain, 2, 3);
  await hidden(
    [
      { relation: 'inference_log', chain: rc, from: 20, to: 30, partition: 'inference_log_p2020_01' },
      { relation: 'inference_log_event', chain: eventChain, from: 2, to: 3, partition: 'inference_log_p2020_01' },
    ],
    ['inference_log_p2020_01'],
    async () => {
      await verifyNames(
        'records',
        rc,
        20,
        30,
        `its partition inference_log_p2020_01 is of a month before the log was created (${created})`,
      );
      await verifyNames('events', eventChain, 2, 3, 'it is on an event chain, and retention never drops events');
      const report = await against();
      const when = exportOf();
      expect(report.problems).toEqual([
        {
          kind: 'missing',
          table: 'records',
          chain_id: rc,
          seq: 20,
          message: `chain ${rc} seq 20..30 (ids ${r20} … ${r30}), which ${when} holds, are no longer in the database and retention did not drop their months (a partition is attached, a month has not ended, or rows of it remain): deleted`,
        },
        {
          kind: 'missing',
          table: 'events',
          chain_id: eventChain,
          seq: 2,
          message: `event chain ${eventChain} seq 2..3 (ids ${e2} … ${e3}), which ${when} holds, are no longer in the database and retention never drops events: deleted`,
        },
      ]);
    },
  );
});

test('a gap naming no partition, and no audit row at all: named by verify and by --against', async () => {
  const rc = writer.chain.id;
  const [r10] = await ids('inference_log', rc, 10, 10);
  await hidden([{ relation: 'inference_log', chain: rc, from: 10, to: 10, partition: '' }], null, async () => {
    await verifyNames('records', rc, 10, 10, 'it names no partition');
    expect((await against()).problems).toEqual([
      expect.objectContaining({
        kind: 'missing',
        seq: 10,
        message: `chain ${rc} seq 10 (id ${r10}), which ${exportOf()} holds, is no longer in the database and retention did not drop its month (${thisMonth} is attached, the month has not ended, or rows of it remain): deleted`,
      }),
    ]);
  });
});

test("gaps covering a chain's head (an event chain's, and a record chain's with a name that is no partition): named by verify and by --against", async () => {
  const rc = writer.chain.id;
  const [e5] = await ids('inference_log_event', eventChain, 5, 5);
  const [r40] = await ids('inference_log', rc, 40, 40);
  await hidden(
    [
      { relation: 'inference_log_event', chain: eventChain, from: 5, to: 5, partition: 'inference_log_p2020_01' },
      { relation: 'inference_log', chain: rc, from: 40, to: 40, partition: 'archive' },
    ],
    ['inference_log_p2020_01', 'archive'],
    async () => {
      await verifyNames('events', eventChain, 5, 5, 'it is on an event chain, and retention never drops events');
      await verifyNames('records', rc, 40, 40, '"archive" is not a monthly partition of inference_log');
      const report = await against();
      expect(report.problems.map((p) => [p.table, p.seq, p.message.replace(/ \(ids? [^)]*\)/, '')])).toEqual([
        [
          'records',
          40,
          expect.stringMatching(
            new RegExp(
              `^chain ${rc} seq 40, which .* is no longer in the database and retention did not drop its month \\(${thisMonth} is attached, the month has not ended, or rows of it remain\\): deleted$`,
            ),
          ),
        ],
        ['events', 5, expect.stringMatching(/seq 5, which .* is no longer in the database and retention never drops events: deleted$/)],
      ]);
      expect(report.problems[0]!.message).toContain(r40!);
      expect(report.problems[1]!.message).toContain(e5!);
    },
  );
});

test('a gap over a whole chain, naming the month still running: named by verify and by --against', async () => {
  const chain = batch.chain.id;
  await hidden([{ relation: 'inference_log', chain, from: 1, to: 5, partition: thisMonth }], [thisMonth], async () => {
    await verifyNames('records', chain, 1, 5, `its partition ${thisMonth} still exists`);
    expect((await against()).problems).toEqual([
      expect.objectContaining({
        kind: 'missing',
        chain_id: chain,
        seq: 1,
        message: expect.stringContaining(`chain ${chain} seq 1..5 (ids `),
      }),
    ]);
  });
});

test("the month's partition renamed (still attached, rows and all) and a gap dated in the future naming it: named by verify and by --against", async () => {
  const rc = writer.chain.id;
  const [r12] = await ids('inference_log', rc, 12, 12);
  const future = new Date(Date.now() + 40 * 86_400_000).toISOString();
  const renamed = thisMonth.replace('_p', '_q');
  const audit = JSON.stringify({ partitions: [{ partition: thisMonth }] });
  await asAttacker(
    `CREATE TABLE $1:name.saved AS SELECT * FROM $1:name.inference_log WHERE chain_id = $2 AND chain_seq = 12;
     ALTER TABLE $1:name.$3:name RENAME TO $6:name;
     INSERT INTO $1:name.inference_log_gap (chain_id, from_seq, to_seq, last_hash, partition, dropped_at)
       SELECT chain_id, 12, 12, record_hash, $3, $4 FROM $1:name.inference_log WHERE chain_id = $2 AND chain_seq = 12;
     INSERT INTO $1:name.inference_log_audit (at, actor, action, reason, details) VALUES ($4, 'ops', 'retention', 'keep 6mo', $5);
     DELETE FROM $1:name.inference_log WHERE chain_id = $2 AND chain_seq = 12;`,
    [schema, rc, thisMonth, future, audit, renamed],
  );
  try {
    await verifyNames('records', rc, 12, 12, `it says it was recorded at ${future}, which has not come yet`);
    // Dated now instead: the rows of that month, still in the log under the renamed partition, tell.
    await asAttacker(
      "UPDATE $1:name.inference_log_gap SET dropped_at = now(); UPDATE $1:name.inference_log_audit SET at = now() WHERE action = 'retention'",
      [schema],
    );
    await verifyNames(
      'records',
      rc,
      12,
      12,
      `the log still holds rows of the month of ${thisMonth}: that partition was not dropped (renamed, perhaps)`,
    );
    expect((await against()).problems).toEqual([
      expect.objectContaining({ kind: 'missing', seq: 12, message: expect.stringContaining(`seq 12 (id ${r12})`) }),
    ]);
  } finally {
    await asAttacker(
      `ALTER TABLE $1:name.$3:name RENAME TO $2:name;
       INSERT INTO $1:name.inference_log SELECT * FROM $1:name.saved; DROP TABLE $1:name.saved;
       DELETE FROM $1:name.inference_log_gap; DELETE FROM $1:name.inference_log_audit WHERE action = 'retention';`,
      [schema, thisMonth, renamed],
    );
  }
  expect(await verifyLog(db, schema, 'inference_log')).toMatchObject({ ok: true, problems: [] });
});

test('a row changed after the export (its hash with it): --against names it, where the chain ends alone would not', async () => {
  const rc = writer.chain.id;
  await asAttacker(
    "UPDATE $1:name.inference_log SET record_hash = CASE WHEN left(record_hash, 1) = '0' THEN '1' ELSE '0' END || substr(record_hash, 2) WHERE chain_id = $2 AND chain_seq = 7",
    [schema, rc],
  );
  try {
    const report = await against();
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'changed',
        table: 'records',
        chain_id: rc,
        seq: 7,
        message: expect.stringContaining('the row was changed or the chain rewritten after that export'),
      }),
    ]);
    expect(await compareWithManifest(db, schema, 'inference_log', before.manifest)).toMatchObject({ ok: true, compared: 'ends' });
  } finally {
    await asAttacker('UPDATE $1:name.inference_log SET record_hash = $3 WHERE chain_id = $2 AND chain_seq = 7', [
      schema,
      rc,
      (await db.one('SELECT prev_hash FROM $1:name.inference_log WHERE chain_id = $2 AND chain_seq = 8', [schema, rc])).prev_hash,
    ]);
  }
  expect(await verifyLog(db, schema, 'inference_log')).toMatchObject({ ok: true, problems: [] });
});
