import type { IBaseProtocol } from 'pg-promise';
import { InferlogConfigError, InferlogRefusedError } from '../errors';
import { lockKey } from '../sink/migrate';
import { logTableNames } from '../sink/names';
import { attachedPartitions } from '../sink/partitions';
import { pgp, type Database } from '../sink/pgp';
import { recordGaps } from './gaps';
import { holdStatus, type HoldState } from './hold';
import { parseRetentionPeriod, RETENTION_FLOOR_DAYS } from './period';

export { holdStatus, setHold, type HoldState } from './hold';
export { parseRetentionPeriod, RETENTION_FLOOR_DAYS, type RetentionPeriod } from './period';

/** A partition retention dropped (or, in a dry run, would drop). */
export interface RetentionPlanPartition {
  partition: string;
  /** Lower bound (inclusive) of its started_at range. */
  from: Date;
  /** Upper bound (exclusive): at or before the cutoff. */
  to: Date;
  /** Rows it held. */
  rows: number;
}

/** What a retention run did (or, with `dryRun`, would do). */
export interface RetentionResult {
  /** The period kept, in its short form (`6mo`). */
  keep: string;
  /** Partitions whose upper bound is at or before this instant are dropped. */
  cutoff: Date;
  dryRun: boolean;
  /** The partitions dropped, oldest first. */
  dropped: RetentionPlanPartition[];
  /** Monthly partitions kept. */
  kept: number;
  /** Gap rows recorded in `<table>_gap` (dry run: that would be). */
  gaps: number;
}

export interface RetentionOptions {
  /** The period to keep: `6mo`, `180d`, `26w`, `1y`, `6 months`, … (see {@link parseRetentionPeriod}). */
  keep: string;
  /** Who runs retention, recorded in the audit table. */
  actor: string;
  /** Only report what would be dropped: nothing is changed or written. Refusals apply as to a real run. */
  dryRun?: boolean;
  /** Allow a period shorter than six months (where Union or national law allows less). Never overrides a legal hold. */
  force?: boolean;
  /** The time the period counts back from: now (the default) or earlier, never later. */
  now?: Date;
  /** How long to wait for the locks on the log table before giving up (changing nothing). Default 10,000 ms. */
  lockTimeoutMs?: number;
}

const LOCK_NOT_AVAILABLE = '55P03';
const INSUFFICIENT_PRIVILEGE = '42501';
const UNDEFINED_TABLE = '42P01';

/** The refusal while a legal hold is active: names its reason, actor and since, and how to lift it. */
function holdRefusal(schema: string, table: string, hold: HoldState): InferlogRefusedError {
  return new InferlogRefusedError(
    'E_LEGAL_HOLD',
    `retention of ${schema}.${table} refused: a legal hold is active since ${hold.since?.toISOString() ?? 'an unknown time'}, set by ${hold.actor ?? 'an unknown actor'} (reason: ${hold.reason ?? 'none given'}). ` +
      'Nothing was dropped. Retention stays blocked, even with force, until the hold is lifted ("inferlog hold off --reason …", or setHold with active: false) when the case is closed.',
  );
}

/** The refusal of a period that can be shorter than the floor: names the floor, its reason in law, and `force`. */
function floorRefusal(label: string, days: number): InferlogRefusedError {
  return new InferlogRefusedError(
    'E_RETENTION_FLOOR',
    `retention keep ${label} refused: ${label} can be as short as ${days} days, less than six months (AI Act Art. 19(1) and 26(6): keep logs at least six months; six calendar months span up to ${RETENTION_FLOOR_DAYS} days). ` +
      `Nothing was dropped. Keep 6mo / ${RETENTION_FLOOR_DAYS}d / 27w or more, or, where Union or national law provides otherwise, pass force: true (CLI: --force).`,
  );
}

/** A database error as something an operator can act on; other errors unchanged. */
function explain(err: unknown, schema: string, table: string, lockTimeoutMs: number): unknown {
  const code = (err as { code?: string }).code;
  const detail = (err as Error).message;
  if (code === LOCK_NOT_AVAILABLE) {
    return new Error(
      `inferlog: retention could not lock ${schema}.${table} within ${lockTimeoutMs} ms: another session is using it (a long read such as verify or an export, or a migration). Nothing was changed; run it again later, or with a longer lockTimeoutMs.`,
      { cause: err },
    );
  }
  if (code === INSUFFICIENT_PRIVILEGE) {
    return new Error(
      `inferlog: retention must run as the owner of ${schema}.${table} (the role that migrated it): ${detail}. Nothing was changed.`,
      { cause: err },
    );
  }
  if (code === UNDEFINED_TABLE) {
    return new Error(
      `inferlog: ${schema}.${table} is not a migrated inferlog log table (${detail}): check schema and table, or run the migrations first. Nothing was changed.`,
      { cause: err },
    );
  }
  return err;
}

/** Rows per partition, counted in one statement. */
async function countRows(t: IBaseProtocol<unknown>, schema: string, partitions: readonly string[]): Promise<Map<string, number>> {
  if (partitions.length === 0) return new Map();
  const sql = partitions
    .map((p) => pgp.as.format('SELECT $2 AS partition, count(*) AS rows FROM $1:name.$2:name', [schema, p]))
    .join(' UNION ALL ');
  return new Map((await t.any(sql)).map((r) => [r.partition as string, Number(r.rows)]));
}

/**
 * Drops the monthly partitions of a log table that lie wholly before the retention cutoff (upper bound
 * at or before now minus `keep`), in one transaction under the schema's advisory lock (the one
 * migrations and partition creation take). Before dropping, it records in `<table>_gap` the stretch of
 * every hash chain the partitions held, so verifyLog still verifies the rows kept; after, it writes an
 * audit row (action `retention`). Events are not touched. A dry run changes and writes nothing and
 * returns what would be dropped.
 *
 * Refuses, before changing anything, with an {@link InferlogRefusedError}: while a legal hold is active
 * (`E_LEGAL_HOLD`, even with `force`), and for a period that can be shorter than six months without
 * `force` (`E_RETENTION_FLOOR`). Must run as the table's owner: dropping a partition is DDL (so the
 * append-only trigger does not fire, and no writer or reader role can do it).
 */
export async function applyRetention(db: Database, schema: string, table: string, opts: RetentionOptions): Promise<RetentionResult> {
  const period = parseRetentionPeriod(opts?.keep);
  const actor = typeof opts.actor === 'string' ? opts.actor.trim() : '';
  if (!actor) throw new InferlogConfigError('retention needs an actor (who runs it): the audit table records it');
  const now = opts.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime()))
    throw new InferlogConfigError(`retention option now must be a valid Date, got ${String(opts.now)}`);
  // A `now` in the future would drop rows younger than `keep` and get round the floor.
  if (now.getTime() > Date.now() + 60_000)
    throw new InferlogConfigError(
      `retention option now (${now.toISOString()}) lies in the future: it would drop rows younger than ${period.label}. Leave it out to count back from the current time.`,
    );
  const lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
  if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 1)
    throw new InferlogConfigError(
      `retention option lockTimeoutMs must be a whole number of milliseconds ≥ 1, got ${String(opts.lockTimeoutMs)}`,
    );
  const dryRun = opts.dryRun === true;
  const force = opts.force === true;
  const cutoff = period.cutoff(now);
  const names = logTableNames(schema, table);

  try {
    return await db.tx('inferlog-retention', async (t) => {
      if (dryRun) await t.none('SET TRANSACTION READ ONLY');
      await t.one('SELECT pg_advisory_xact_lock(hashtext($1)) AS locked', [lockKey(schema)]);
      const hold = await holdStatus(t, schema, table);
      if (hold.active) throw holdRefusal(schema, table, hold);
      if (!period.keepsSixMonths && !force) throw floorRefusal(period.label, period.minimumDays);

      const partitions = await attachedPartitions(t, schema, table);
      const old = partitions.filter((p) => p.to.getTime() <= cutoff.getTime());
      const oldNames = old.map((p) => p.partition);
      if (!dryRun && old.length > 0) {
        // From here on, wait for locks at most lockTimeoutMs: a DROP queued behind a long reader would
        // stall every writer queued behind it. SHARE keeps rows from arriving in the old partitions
        // between counting them and dropping them, and lets readers go on.
        await t.none(`SET LOCAL lock_timeout = ${lockTimeoutMs}`);
        await t.none(`LOCK TABLE ${oldNames.map((p) => pgp.as.format('$1:name.$2:name', [schema, p])).join(', ')} IN SHARE MODE`);
      }
      const rows = await countRows(t, schema, oldNames);
      const dropped = old.map((p) => ({ ...p, rows: rows.get(p.partition) ?? 0 }));
      const gaps = await recordGaps(t, schema, table, oldNames, dryRun);
      const result: RetentionResult = { keep: period.label, cutoff, dryRun, dropped, kept: partitions.length - old.length, gaps };
      if (dryRun) return result;

      if (old.length > 0) await t.none(`DROP TABLE ${oldNames.map((p) => pgp.as.format('$1:name.$2:name', [schema, p])).join(', ')}`);
      const details = {
        cutoff: cutoff.toISOString(),
        partitions: dropped.map((p) => ({ partition: p.partition, from: p.from.toISOString(), to: p.to.toISOString(), rows: p.rows })),
        rows: dropped.reduce((sum, p) => sum + p.rows, 0),
        force,
        gaps,
      };
      await t.none('INSERT INTO $1:name.$2:name (actor, action, reason, details) VALUES ($3, $4, $5, $6)', [
        schema,
        names.audit,
        actor,
        'retention',
        `keep ${period.label}`,
        details,
      ]);
      return result;
    });
  } catch (err) {
    throw explain(err, schema, table, lockTimeoutMs);
  }
}
