import { logTableNames } from '../sink/names';
import { attachedPartitions } from '../sink/partitions';
import type { Queryable } from '../sink/pgp';
import { holdStatus } from './hold';
import { RETENTION_FLOOR_DAYS } from './period';

/** A row of the log's audit table (`<table>_audit`): who did what to the log itself. */
export interface AuditEntry {
  /** When (ISO 8601 UTC). */
  at: string;
  actor: string;
  /** `retention`, `hold on` or `hold off`. */
  action: string;
  reason: string | null;
  /** What the action recorded: for retention the cutoff, partitions and rows dropped; for a hold the state before. */
  details: unknown;
}

/** The legal hold as the audit table and the hold table have it. */
export interface HoldSection {
  /** The hold at the moment of the report. */
  now: { active: boolean; reason: string | null; actor: string | null; since: string | null };
  /** Whether a hold was on when the period began (from the last change before it). */
  active_at_start: boolean;
  /** Whether a hold was on at any time in the period. */
  in_force_in_period: boolean;
  /** The holds set and lifted in the period, oldest first. */
  changes: AuditEntry[];
}

/** Retention and legal holds: what the log keeps and what was dropped, and who held it. */
export interface RetentionSection {
  /** The shortest period `inferlog retention` applies without force (AI Act Art. 19(1), 26(6)). */
  floor_days: number;
  /** The period `last_run` kept (`6mo`): the log records a retention setting nowhere else. Null if retention never ran. */
  last_keep: string | null;
  /** The last retention run before the end of the period (in it or before it); null if none. */
  last_run: AuditEntry | null;
  /** The retention runs in the period, oldest first. */
  runs: AuditEntry[];
  /** The monthly partitions the log holds at the moment of the report. */
  partitions: { count: number; oldest_from: string | null; newest_to: string | null };
  /** The chain stretches retention has dropped so far, as recorded in `<table>_gap`. */
  dropped: { stretches: number; rows: number; chains: number };
  hold: HoldSection;
}

function entry(r: Record<string, unknown>): AuditEntry {
  return {
    at: (r.at as Date).toISOString(),
    actor: r.actor as string,
    action: r.action as string,
    reason: r.reason as string | null,
    details: r.details,
  };
}

/**
 * Retention and holds for a period: the runs and hold changes of the audit table in it, the last run and
 * the hold before it, the hold and the partitions as they are now, and what the gap table says was dropped.
 */
export async function retentionIn(t: Queryable, schema: string, table: string, since: Date, until: Date): Promise<RetentionSection> {
  const names = logTableNames(schema, table);
  const audit = (where: string, order = 'at, id', limit = '') =>
    t.any(`SELECT at, actor, action, reason, details FROM $1:name.$2:name WHERE ${where} ORDER BY ${order} ${limit}`, [
      schema,
      names.audit,
      since,
      until,
    ]);
  const runs = (await audit(`action = 'retention' AND at >= $3 AND at < $4`)).map(entry);
  const lastRun = (await audit(`action = 'retention' AND at < $4`, 'at DESC, id DESC', 'LIMIT 1')).map(entry)[0] ?? null;
  const holdChanges = (await audit(`action IN ('hold on', 'hold off') AND at >= $3 AND at < $4`)).map(entry);
  const before = (await audit(`action IN ('hold on', 'hold off') AND at < $3`, 'at DESC, id DESC', 'LIMIT 1'))[0];
  const activeAtStart = before?.action === 'hold on';
  const hold = await holdStatus(t, schema, table);
  const partitions = await attachedPartitions(t, schema, table);
  const gaps = await t.one(
    'SELECT count(*) AS stretches, coalesce(sum(to_seq - from_seq + 1), 0) AS rows, count(DISTINCT chain_id) AS chains FROM $1:name.$2:name',
    [schema, names.gaps],
  );
  return {
    floor_days: RETENTION_FLOOR_DAYS,
    last_keep: lastRun?.reason?.startsWith('keep ') ? lastRun.reason.slice('keep '.length) : null,
    last_run: lastRun,
    runs,
    partitions: {
      count: partitions.length,
      oldest_from: partitions[0]?.from.toISOString() ?? null,
      newest_to: partitions.at(-1)?.to.toISOString() ?? null,
    },
    dropped: { stretches: Number(gaps.stretches), rows: Number(gaps.rows), chains: Number(gaps.chains) },
    hold: {
      now: { active: hold.active, reason: hold.reason, actor: hold.actor, since: hold.since?.toISOString() ?? null },
      active_at_start: activeAtStart,
      in_force_in_period: activeAtStart || holdChanges.some((c) => c.action === 'hold on'),
      changes: holdChanges,
    },
  };
}
