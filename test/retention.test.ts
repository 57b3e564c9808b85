// Retention with legal hold against a real PostgreSQL: records written through the sink 8, 7 and 5 months
// ago and now, in hash chains; retention drops whole monthly partitions older than the cutoff, records the
// chain stretches it dropped so the log still verifies, audits every run, and refuses below the 180-day
// floor (unless forced) and under a legal hold (always).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyRetention,
  compareWithManifest,
  exportLog,
  holdStatus,
  parseRetentionPeriod,
  pgp,
  setHold,
  verifyLog,
  type ExportResult,
} from '@inferlog/core/audit';
import { Chain, type Chained } from '../packages/core/src/chain/chain';
import { InferlogRefusedError, type InferenceRecord } from '@inferlog/core';
import { openPostgresSink } from '../packages/core/src/sink/connect';
import { resolveOptions } from '../packages/core/src/options';
import { uuidv7 } from '../packages/core/src/ids';
import type { PostgresSink } from '../packages/core/src/sink/postgres-sink';
import { createdMonthsAgo, DATABASE_URL, db, dropSchema, endPool, serverOnly, tempDir, uniqueSchema } from './helpers';

const TABLE = 'inference_log';
const NOW = Date.now();
const sinks: PostgresSink[] = [];
const schemas: string[] = [];

/** Noon on the 15th, `n` calendar months before now (UTC): well inside its month. */
const monthsAgo = (n: number, minute = 0) => {
  const d = new Date(NOW);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, 15, 12, minute);
};
/** The partition holding `ms`. */
const partitionOf = (ms: number) => {
  const d = new Date(ms);
  return `${TABLE}_p${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};

function record(i: number, at: number): InferenceRecord {
  return {
    id: uuidv7(at),
    started_at: new Date(at),
    ended_at: new Date(at + 5),
    latency_ms: 5,
    request_id: `r-${i}`,
    trace_id: null,
    span_id: null,
    service: 'credit-api',
    service_version: '1.0.0',
    host: 'h',
    method: 'POST',
    route: '/v2/models/:model/infer',
    path: '/v2/models/credit/infer',
    status: 200,
    aborted: false,
    protocol: 'oip-v2',
    model_name: 'credit',
    model_version: '3',
    inference_id: `inf-${i}`,
    parameters: null,
    inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [i] }],
    outputs: null,
    response_parameters: null,
    usage: null,
    error: null,
    request_headers: null,
    response_headers: null,
    request_body: null,
    response_body: null,
    request_bytes: 10,
    response_bytes: 10,
    request_sha256: null,
    response_sha256: null,
    truncated: [],
    redactions: [],
    schema_errors: null,
    annotations: null,
  };
}

interface Seeded {
  schema: string;
  chains: Record<'a' | 'b' | 'c' | 'd', Chain>;
}

/**
 * A fresh log in its own schema, written through the sink:
 * - chain a: 10 records in each of 8, 7 and 5 months ago and now (seq 1..40, in time order);
 * - chain b: 6 records alternating between 8 and 5 months ago (seq 1, 3, 5 old; 2, 4, 6 kept);
 * - chain c: 5 records, all 8 months ago (a writer that stopped long ago);
 * - chain d: seq 1..3 five months ago, then seq 4..5 seven months ago (its tail is old: a late journal replay);
 * - one oversight event, chained, created 8 months ago.
 */
async function seed(prefix: string): Promise<Seeded> {
  const schema = uniqueSchema(prefix);
  schemas.push(schema);
  const sink = await openPostgresSink(resolveOptions({ database: DATABASE_URL, schema }));
  sinks.push(sink);
  const chains = {
    a: new Chain('record', 'a', null),
    b: new Chain('record', 'b', null),
    c: new Chain('record', 'c', null),
    d: new Chain('record', 'd', null),
  };
  // Records 8 months old: the log has existed that long (verify accepts retention gaps only since then).
  await createdMonthsAgo(schema, 9);
  for (const chain of Object.values(chains)) await sink.registerChain(chain);
  const write = async (chain: Chain, times: number[]) => {
    const batch = times.map((at, i) => record(i, at));
    chain.seal(batch);
    await sink.insert(batch);
  };
  const ten = (at: number) => Array.from({ length: 10 }, (_, i) => at + i * 1000);
  for (const at of [monthsAgo(8), monthsAgo(7), monthsAgo(5), NOW - 60_000]) await write(chains.a, ten(at));
  await write(
    chains.b,
    [0, 1, 2, 3, 4, 5].map((k) => monthsAgo(k % 2 === 0 ? 8 : 5, k)),
  );
  await write(
    chains.c,
    [0, 1, 2, 3, 4].map((k) => monthsAgo(8, 30 + k)),
  );
  await write(chains.d, [monthsAgo(5, 40), monthsAgo(5, 41), monthsAgo(5, 42), monthsAgo(7, 40), monthsAgo(7, 41)]);

  const events = new Chain('event', 'a', null);
  await sink.registerChain(events);
  const event: Chained & Record<string, unknown> = {
    id: uuidv7(monthsAgo(8)),
    created_at: new Date(monthsAgo(8)),
    subject: 'r-1',
    type: 'review',
    actor: 'alice',
    data: { ok: true },
    redactions: [],
  };
  events.seal([event]);
  // Through the sink, as the logger stores it: the head move is signed with the event chain's key.
  await sink.insertEvent(event as never);
  return { schema, chains };
}

const partitions = async (schema: string): Promise<string[]> =>
  (
    await db.any(
      "SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relname ~ '_p[0-9]{4}_[0-9]{2}$' ORDER BY relname",
      [schema],
    )
  ).map((r) => r.relname);
const count = async (schema: string, relation: string): Promise<number> =>
  (await db.one('SELECT count(*)::int AS n FROM $1:name.$2:name', [schema, relation])).n;
const audit = (schema: string) =>
  db.any('SELECT actor, action, reason, details, at FROM $1:name.$2:name ORDER BY id', [schema, `${TABLE}_audit`]);
const gapRows = (schema: string) =>
  db.any('SELECT chain_id, from_seq::int, to_seq::int, last_hash, partition FROM $1:name.$2:name ORDER BY chain_id, from_seq', [
    schema,
    `${TABLE}_gap`,
  ]);
/** Everything retention could change: partitions, rows, events, gaps, audit rows, the hold. */
const snapshot = async (schema: string) => ({
  partitions: await partitions(schema),
  rows: await count(schema, TABLE),
  events: await count(schema, `${TABLE}_event`),
  gaps: await count(schema, `${TABLE}_gap`),
  audit: await count(schema, `${TABLE}_audit`),
  hold: await holdStatus(db, schema, TABLE),
});

afterAll(async () => {
  for (const sink of sinks) await sink.close();
  for (const schema of schemas) await dropSchema(schema);
  await endPool();
});

test('parseRetentionPeriod accepts 6mo, 180d, 26w, 1y, "6 months", "2 years"; counts calendar months; rejects anything else with the accepted forms', () => {
  const at = new Date('2026-08-31T10:00:00.000Z');
  expect(parseRetentionPeriod('6mo')).toMatchObject({ label: '6mo', minimumDays: 181, keepsSixMonths: true });
  expect(parseRetentionPeriod('6mo').cutoff(at)).toEqual(new Date('2026-02-28T10:00:00.000Z'));
  expect(parseRetentionPeriod('6 months').cutoff(new Date('2026-11-25T16:00:00Z'))).toEqual(new Date('2026-05-25T16:00:00Z'));
  expect(parseRetentionPeriod('180d')).toMatchObject({ label: '180d', minimumDays: 180, keepsSixMonths: false });
  expect(parseRetentionPeriod('184d')).toMatchObject({ label: '184d', minimumDays: 184, keepsSixMonths: true });
  expect(parseRetentionPeriod('180d').cutoff(at)).toEqual(new Date(at.getTime() - 180 * 86_400_000));
  expect(parseRetentionPeriod('26w')).toMatchObject({ label: '26w', minimumDays: 182 });
  expect(parseRetentionPeriod('1y')).toMatchObject({ label: '1y', minimumDays: 365 });
  expect(parseRetentionPeriod('1y').cutoff(new Date('2028-02-29T00:00:00Z'))).toEqual(new Date('2027-02-28T00:00:00Z'));
  expect(parseRetentionPeriod(' 2 Years ')).toMatchObject({ label: '2y', minimumDays: 730 });
  expect(parseRetentionPeriod('2 years').cutoff(at)).toEqual(new Date('2024-08-31T10:00:00.000Z'));
  expect(parseRetentionPeriod('1 month').minimumDays).toBe(28);
  expect(parseRetentionPeriod('5mo').minimumDays).toBe(150);
  expect(parseRetentionPeriod('90 days').label).toBe('90d');

  for (const nonsense of ['', '6', 'six months', '1.5y', '-6mo', '6 fortnights', '6mo ago', '1e3d']) {
    expect(() => parseRetentionPeriod(nonsense)).toThrow(
      `retention period ${JSON.stringify(nonsense)} is not understood: write a whole number and a unit: '184d' or '184 days', '27w' or '27 weeks', '6mo' or '6 months' (calendar months), '1y' or '1 year' (calendar years)`,
    );
  }
  expect(() => parseRetentionPeriod('6m')).toThrow("('m' is ambiguous or too short: write 'mo' for months)");
  expect(() => parseRetentionPeriod('0d')).toThrow('"0d" would keep nothing: write a period of at least one day');
  expect(() => parseRetentionPeriod('200y')).toThrow('"200y" is longer than 100 years: to keep everything, do not run retention');
  expect(() => parseRetentionPeriod(undefined as unknown as string)).toThrow('retention period undefined is not understood');
});

describe('keep 6mo', () => {
  let log: Seeded;
  const old = [partitionOf(monthsAgo(8)), partitionOf(monthsAgo(7))];
  const expected = [
    {
      partition: old[0],
      from: new Date(Date.UTC(new Date(monthsAgo(8)).getUTCFullYear(), new Date(monthsAgo(8)).getUTCMonth(), 1)),
      rows: 10 + 3 + 5,
    },
    {
      partition: old[1],
      from: new Date(Date.UTC(new Date(monthsAgo(7)).getUTCFullYear(), new Date(monthsAgo(7)).getUTCMonth(), 1)),
      rows: 10 + 2,
    },
  ];
  let dry: Awaited<ReturnType<typeof applyRetention>>;
  const dir = tempDir('inferlog-retention-');
  let earlier: ExportResult;

  beforeAll(async () => {
    log = await seed('keep');
    expect(await verifyLog(db, log.schema, TABLE)).toMatchObject({ ok: true, rows: 56 + 1, problems: [] });
    earlier = await exportLog(db, log.schema, TABLE, { format: 'jsonl', out: join(dir, 'before.jsonl') });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a dry run lists the partitions that would be dropped, with their rows, and changes nothing', async () => {
    const before = await snapshot(log.schema);
    const [t0, six] = [new Date(), parseRetentionPeriod('6mo')];
    dry = await applyRetention(db, log.schema, TABLE, { keep: '6mo', actor: 'ops@example.org', dryRun: true });
    expect(dry.cutoff.getTime()).toBeGreaterThanOrEqual(six.cutoff(t0).getTime());
    expect(dry.cutoff.getTime()).toBeLessThanOrEqual(six.cutoff(new Date()).getTime());
    expect(dry).toMatchObject({ keep: '6mo', dryRun: true, kept: before.partitions.length - 2, gaps: 6 });
    expect(dry.dropped).toMatchObject(expected);
    for (const p of dry.dropped) expect(p.to.getTime()).toBeLessThanOrEqual(dry.cutoff.getTime());
    expect(await snapshot(log.schema)).toEqual(before);
  });

  test('drops exactly the partitions wholly older than the cutoff, records the chain gaps, audits the run, and the log still verifies', async () => {
    const before = await partitions(log.schema);
    const started = new Date();
    const result = await applyRetention(db, log.schema, TABLE, { keep: '6mo', actor: 'ops@example.org' });
    expect(result).toEqual({ ...dry, dryRun: false, cutoff: result.cutoff });
    expect(result.cutoff.getTime()).toBeGreaterThanOrEqual(dry.cutoff.getTime());
    expect(await partitions(log.schema)).toEqual(before.filter((p) => !old.includes(p)));
    expect(await partitions(log.schema)).toEqual(expect.arrayContaining([partitionOf(monthsAgo(5)), partitionOf(NOW)]));
    expect(await count(log.schema, TABLE)).toBe(56 - 30);
    expect(await count(log.schema, `${TABLE}_event`)).toBe(1);

    const { a, b, c, d } = log.chains;
    const gaps = await gapRows(log.schema);
    const gap = (chain: Chain, from: number, to: number, partition: string) =>
      expect.objectContaining({ chain_id: chain.id, from_seq: from, to_seq: to, partition });
    expect(gaps).toHaveLength(6);
    expect(gaps).toEqual(
      expect.arrayContaining([
        gap(a, 1, 20, old.join(', ')),
        gap(b, 1, 1, old[0]),
        gap(b, 3, 3, old[0]),
        gap(b, 5, 5, old[0]),
        gap(c, 1, 5, old[0]),
        gap(d, 4, 5, old[1]),
      ]),
    );
    // last_hash is the hash of the last row dropped: the prev_hash of the first row kept.
    expect(gaps.find((g) => g.chain_id === a.id)!.last_hash).toBe(
      (await db.one('SELECT prev_hash FROM $1:name.$2:name WHERE chain_id = $3 AND chain_seq = 21', [log.schema, TABLE, a.id])).prev_hash,
    );

    const [row] = await audit(log.schema);
    expect(row).toMatchObject({
      actor: 'ops@example.org',
      action: 'retention',
      reason: 'keep 6mo',
      details: {
        cutoff: result.cutoff.toISOString(),
        rows: 30,
        force: false,
        gaps: 6,
        partitions: expected.map((p) => ({ partition: p.partition, from: p.from.toISOString(), rows: p.rows, to: expect.any(String) })),
      },
    });
    expect(row.at.getTime()).toBeGreaterThanOrEqual(started.getTime() - 5000);
    expect(row.at.getTime()).toBeLessThanOrEqual(Date.now() + 5000);

    const report = await verifyLog(db, log.schema, TABLE);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, rows: 26 + 1 });
    expect(report.chains.find((s) => s.chain_id === a.id)).toMatchObject({ first_seq: 21, last_seq: 40, ok: true });
    expect(report.chains.find((s) => s.chain_id === d.id)).toMatchObject({ first_seq: 1, last_seq: 3, head: { seq: 5 }, ok: true });

    // Against an export taken before the run: the rows of the dropped months are counted as dropped, every other row compared.
    expect(await compareWithManifest(db, log.schema, TABLE, earlier.manifest, { dir })).toEqual({
      ok: true,
      compared: 'rows',
      checked: 26 + 1,
      dropped: 30,
      problems: [],
    });
  });

  test('a second run finds nothing more to drop, and is audited too', async () => {
    const result = await applyRetention(db, log.schema, TABLE, { keep: '6 months', actor: 'cron' });
    expect(result).toMatchObject({ keep: '6mo', dropped: [], gaps: 0 });
    expect((await audit(log.schema)).map((r) => [r.actor, r.action, r.details.rows])).toEqual([
      ['ops@example.org', 'retention', 30],
      ['cron', 'retention', 0],
    ]);
  });
});

test('gaps of two runs that meet are followed as one, from the chain start; a row deleted next to a gap is still found', async () => {
  const log = await seed('twice');
  const { a, b } = log.chains;
  const monthEarlier = parseRetentionPeriod('1mo').cutoff(new Date());
  const first = await applyRetention(db, log.schema, TABLE, { keep: '6mo', actor: 'cron', now: monthEarlier });
  expect(first.dropped.map((p) => p.partition)).toEqual([partitionOf(monthsAgo(8))]);
  const second = await applyRetention(db, log.schema, TABLE, { keep: '6mo', actor: 'cron' });
  expect(second.dropped.map((p) => p.partition)).toEqual([partitionOf(monthsAgo(7))]);
  expect((await gapRows(log.schema)).filter((g) => g.chain_id === a.id)).toMatchObject([
    { from_seq: 1, to_seq: 10, last_hash: expect.any(String) },
    { from_seq: 11, to_seq: 20, last_hash: expect.any(String) },
  ]);
  expect(await verifyLog(db, log.schema, TABLE)).toMatchObject({ ok: true, problems: [] });
  expect(await verifyLog(db, log.schema, TABLE, { chain: b.id })).toMatchObject({ ok: true, rows: 3 });

  // Retention does not launder tampering: a kept row deleted right after the gaps is reported missing.
  const next = await db.one('SELECT id FROM $1:name.$2:name WHERE chain_id = $3 AND chain_seq = 22', [log.schema, TABLE, a.id]);
  await db.tx(async (t) => {
    await t.none('SET LOCAL session_replication_role = replica');
    await t.none('DELETE FROM $1:name.$2:name WHERE chain_id = $3 AND chain_seq = 21', [log.schema, TABLE, a.id]);
  });
  const report = await verifyLog(db, log.schema, TABLE);
  expect(report.ok).toBe(false);
  expect(report.problems[0]).toMatchObject({
    kind: 'missing',
    chain_id: a.id,
    seq: 21,
    id: next.id,
    message: `chain ${a.id}: seq 21 is missing before row ${next.id} (seq 22): deleted`,
  });
});

test('keep 90d is refused below the six-month floor, and works with force', async () => {
  const log = await seed('floor');
  const before = await snapshot(log.schema);
  const refused = applyRetention(db, log.schema, TABLE, { keep: '90d', actor: 'ops' });
  await expect(refused).rejects.toBeInstanceOf(InferlogRefusedError);
  await expect(refused).rejects.toMatchObject({
    code: 'E_RETENTION_FLOOR',
    message:
      'inferlog: retention keep 90d refused: 90d can be as short as 90 days, less than six months (AI Act Art. 19(1) and 26(6): keep logs at least six months; six calendar months span up to 184 days). ' +
      'Nothing was dropped. Keep 6mo / 184d / 27w or more, or, where Union or national law provides otherwise, pass force: true (CLI: --force).',
  });
  await expect(applyRetention(db, log.schema, TABLE, { keep: '5mo', actor: 'ops', dryRun: true })).rejects.toMatchObject({
    code: 'E_RETENTION_FLOOR',
  });
  // 180 days or 26 weeks fall short of six calendar months counted back from most dates (July to December is 184 days).
  for (const keep of ['180d', '26w', '183d'])
    await expect(applyRetention(db, log.schema, TABLE, { keep, actor: 'ops', dryRun: true })).rejects.toMatchObject({
      code: 'E_RETENTION_FLOOR',
    });
  for (const keep of ['6mo', '184d', '27w', '1y'])
    await expect(applyRetention(db, log.schema, TABLE, { keep, actor: 'ops', dryRun: true })).resolves.toMatchObject({ dryRun: true });
  const future = new Date(NOW + 366 * 86_400_000);
  await expect(applyRetention(db, log.schema, TABLE, { keep: '6mo', actor: 'ops', now: future })).rejects.toThrow(
    `inferlog: retention option now (${future.toISOString()}) lies in the future: it would drop rows younger than 6mo. Leave it out to count back from the current time.`,
  );
  expect(await snapshot(log.schema)).toEqual(before);

  const result = await applyRetention(db, log.schema, TABLE, { keep: '90d', actor: 'ops', force: true });
  const dropped = result.dropped.map((p) => p.partition);
  expect(dropped).toEqual(expect.arrayContaining([partitionOf(monthsAgo(8)), partitionOf(monthsAgo(7)), partitionOf(monthsAgo(5))]));
  expect(dropped).not.toContain(partitionOf(NOW));
  for (const p of result.dropped) expect(p.to.getTime()).toBeLessThanOrEqual(result.cutoff.getTime());
  expect(await partitions(log.schema)).toEqual(before.partitions.filter((p) => !dropped.includes(p)));
  expect(await count(log.schema, TABLE)).toBe(10);
  expect((await audit(log.schema))[0]).toMatchObject({ action: 'retention', reason: 'keep 90d', details: { force: true, rows: 46 } });
  expect(await verifyLog(db, log.schema, TABLE)).toMatchObject({ ok: true, rows: 10 + 1, problems: [] });
});

test('a legal hold blocks retention even with force and names its reason and actor; lifted, retention runs; both are audited', async () => {
  const log = await seed('hold');
  expect(await holdStatus(db, log.schema, TABLE)).toEqual({ active: false, reason: null, actor: null, since: null });
  await expect(setHold(db, log.schema, TABLE, { active: true, reason: '  ', actor: 'legal' })).rejects.toThrow(
    'a legal hold needs a reason',
  );

  const on = await setHold(db, log.schema, TABLE, {
    active: true,
    reason: 'case C-123/26, preservation order',
    actor: 'legal@example.org',
  });
  expect(on).toMatchObject({
    active: true,
    reason: 'case C-123/26, preservation order',
    actor: 'legal@example.org',
    since: expect.any(Date),
  });
  expect(await holdStatus(db, log.schema, TABLE)).toEqual(on);
  const before = await snapshot(log.schema);
  const message =
    `inferlog: retention of ${log.schema}.${TABLE} refused: a legal hold is active since ${on.since!.toISOString()}, set by legal@example.org (reason: case C-123/26, preservation order). ` +
    'Nothing was dropped. Retention stays blocked, even with force, until the hold is lifted ("inferlog hold off --reason …", or setHold with active: false) when the case is closed.';
  for (const opts of [{}, { force: true }, { dryRun: true }, { force: true, keep: '90d' }]) {
    await expect(applyRetention(db, log.schema, TABLE, { keep: '6mo', actor: 'ops', ...opts })).rejects.toMatchObject({
      code: 'E_LEGAL_HOLD',
      message,
    });
  }
  expect(await snapshot(log.schema)).toEqual(before);

  const off = await setHold(db, log.schema, TABLE, { active: false, reason: 'case closed', actor: 'legal@example.org' });
  expect(off).toMatchObject({ active: false, reason: 'case closed', actor: 'legal@example.org' });
  const result = await applyRetention(db, log.schema, TABLE, { keep: '6mo', actor: 'ops' });
  expect(result.dropped.map((p) => p.partition)).toEqual([partitionOf(monthsAgo(8)), partitionOf(monthsAgo(7))]);

  expect(
    (await audit(log.schema)).map(({ actor, action, reason, details }) => ({ actor, action, reason, previous: details.previous?.active })),
  ).toEqual([
    { actor: 'legal@example.org', action: 'hold on', reason: 'case C-123/26, preservation order', previous: false },
    { actor: 'legal@example.org', action: 'hold off', reason: 'case closed', previous: true },
    { actor: 'ops', action: 'retention', reason: 'keep 6mo', previous: undefined },
  ]);
});

describe('refused by the database, nothing changed', () => {
  const onServer = serverOnly('PGlite runs every connection in one session: no lock waits, no other roles');

  test('a table that was never migrated is named, with what to do', async () => {
    await expect(applyRetention(db, 't_retention_missing', TABLE, { keep: '6mo', actor: 'ops' })).rejects.toThrow(
      `inferlog: t_retention_missing.${TABLE} is not a migrated inferlog log table (relation "t_retention_missing.${TABLE}_hold" does not exist): check schema and table, or run the migrations first. Nothing was changed.`,
    );
  });

  onServer('a long reader holding the table makes retention give up after lockTimeoutMs, with a message saying so', async () => {
    const log = await seed('lock');
    const before = await snapshot(log.schema);
    const reader = await db.connect();
    try {
      await reader.none('BEGIN');
      await reader.one('SELECT count(*) FROM $1:name.$2:name', [log.schema, TABLE]);
      await expect(applyRetention(db, log.schema, TABLE, { keep: '6mo', actor: 'ops', lockTimeoutMs: 200 })).rejects.toThrow(
        `inferlog: retention could not lock ${log.schema}.${TABLE} within 200 ms: another session is using it (a long read such as verify or an export, or a migration). Nothing was changed; run it again later, or with a longer lockTimeoutMs.`,
      );
    } finally {
      await reader.none('ROLLBACK');
      reader.done();
    }
    expect(await snapshot(log.schema)).toEqual(before);
  });

  onServer('a role that does not own the table is told to run retention as the owner', async () => {
    const log = await seed('owner');
    const login = `${log.schema}_app`;
    await db.none('CREATE ROLE $1:name LOGIN IN ROLE inferlog_writer', [login]);
    const url = new URL(DATABASE_URL);
    url.username = login;
    url.password = '';
    const app = pgp({ connectionString: url.toString(), max: 1 });
    try {
      await expect(applyRetention(app, log.schema, TABLE, { keep: '6mo', actor: 'app' })).rejects.toThrow(
        new RegExp(
          `^inferlog: retention must run as the owner of ${log.schema}\\.${TABLE} \\(the role that migrated it\\): permission denied .*\\. Nothing was changed\\.$`,
        ),
      );
    } finally {
      await app.$pool.end();
      await db.none('DROP OWNED BY $1:name; DROP ROLE $1:name', [login]);
    }
  });
});
