import type { IBaseProtocol } from 'pg-promise';
import { logTableNames } from '../sink/names';

/** A stretch of a chain that retention dropped, with the hash of the last row dropped. */
export interface Gap {
  from_seq: number;
  to_seq: number;
  last_hash: string;
}

/** A gap row that no retention run accounts for. */
export interface UnbackedGap {
  /** The table of the chain the gap is on (a gap on an event chain is always a problem: retention never drops events). */
  table: 'records' | 'events';
  chain_id: string;
  from_seq: number;
  to_seq: number;
  reason: string;
}

/** The gaps recorded for the log table, per chain, keyed by their first seq. */
export async function loadGaps(t: IBaseProtocol<unknown>, schema: string, table: string): Promise<Map<string, Map<number, Gap>>> {
  const gaps = new Map<string, Map<number, Gap>>();
  for (const g of await t.any('SELECT chain_id, from_seq, to_seq, last_hash FROM $1:name.$2:name', [
    schema,
    logTableNames(schema, table).gaps,
  ])) {
    if (!gaps.has(g.chain_id)) gaps.set(g.chain_id, new Map());
    gaps.get(g.chain_id)!.set(Number(g.from_seq), { from_seq: Number(g.from_seq), to_seq: Number(g.to_seq), last_hash: g.last_hash });
  }
  return gaps;
}

/**
 * The gap that starts at `from`, followed through the gaps adjacent to it (1..100, then 101..250 from a
 * later retention run) until one reaches `until`: what they cover as one, with the hash of the last row
 * dropped. Undefined when no gap starts at `from`.
 */
export function followGaps(gaps: Map<number, Gap> | undefined, from: number, until: number): Gap | undefined {
  let gap = gaps?.get(from);
  while (gap && gap.to_seq < until) {
    const next = gaps!.get(gap.to_seq + 1);
    // The CHECK on the gap table keeps to_seq >= from_seq; rows from before it could otherwise loop.
    if (!next || next.to_seq <= gap.to_seq) break;
    gap = next;
  }
  return gap && { from_seq: from, to_seq: gap.to_seq, last_hash: gap.last_hash };
}

/** A gap row with one partition it names (name null when it names none), and what the database says of that partition. */
interface GapPartitionRow {
  chain_id: string;
  from_seq: string;
  to_seq: string;
  dropped_at: Date;
  kind: 'record' | 'event' | null;
  name: string | null;
  still_there: boolean;
  /** Whether the log still holds rows of the partition's month (then it was not dropped, whatever its name says). */
  rows_left: boolean;
  dropped_by_retention: boolean;
  now: Date;
  log_created: Date | null;
}

const month = (d: Date) => d.getUTCFullYear() * 12 + d.getUTCMonth();
const monthText = (m: number) => `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;

/** Why this partition name cannot be one `inferlog retention` dropped when it recorded the gap, or null when it can. */
function partitionProblem(table: string, r: GapPartitionRow): string | null {
  if (r.name === null) return 'it names no partition';
  const m = /^(\d{4})_(0[1-9]|1[0-2])$/.exec(r.name.startsWith(`${table}_p`) ? r.name.slice(table.length + 2) : '');
  if (!m) return `${JSON.stringify(r.name)} is not a monthly partition of ${table}`;
  if (r.still_there) return `its partition ${r.name} still exists`;
  if (r.dropped_at > r.now) return `it says it was recorded at ${r.dropped_at.toISOString()}, which has not come yet`;
  if (r.rows_left) return `the log still holds rows of the month of ${r.name}: that partition was not dropped (renamed, perhaps)`;
  const of = Number(m[1]) * 12 + Number(m[2]) - 1;
  // Retention drops only months that ended before it ran (cutoff ≤ now, `now` never later than the clock).
  if (of >= month(r.dropped_at)) return `its partition ${r.name} is of a month that had not ended when the gap was recorded`;
  if (r.log_created && of < month(r.log_created))
    return `its partition ${r.name} is of a month before the log was created (${monthText(month(r.log_created))})`;
  if (!r.dropped_by_retention) return `no retention run in the audit table dropped its partition ${r.name} when the gap was recorded`;
  return null;
}

/**
 * Gap rows not backed by a retention run: a gap is only ever recorded by `inferlog retention`
 * (retention.ts), on a record chain, in the transaction that drops the monthly partitions it names
 * and records the run in the audit table. So a gap is accepted only when its chain is a registered
 * record chain (retention never drops events), it names at least one partition, and each one is a
 * monthly partition of the log (`<table>_pYYYY_MM`) of a month that had ended when the gap was recorded
 * (not later than now) and not before the log was created (migration 1), that no longer exists and of
 * whose month the log holds no row (a renamed partition is still attached), and that a `retention` audit
 * row written in the same transaction (same `at` as the gap's `dropped_at`) lists. Any other gap was
 * written by hand, most likely to cover rows deleted from the log.
 */
export async function unbackedGaps(t: IBaseProtocol<unknown>, schema: string, table: string, chain?: string): Promise<UnbackedGap[]> {
  const names = logTableNames(schema, table);
  const rows: GapPartitionRow[] = await t.any(
    `SELECT g.chain_id, g.from_seq, g.to_seq, g.dropped_at, c.kind, p.name,
            p.name IS NOT NULL AND to_regclass(format('%I.%I', $1::text, p.name)) IS NOT NULL AS still_there,
            p.name ~ '_p[0-9]{4}_(0[1-9]|1[0-2])$' AND EXISTS (SELECT FROM $1:name.$7:name l
              WHERE l.started_at >= to_date(right(p.name, 7), 'YYYY_MM')::timestamp AT TIME ZONE 'UTC'
                AND l.started_at < (to_date(right(p.name, 7), 'YYYY_MM') + interval '1 month')::timestamp AT TIME ZONE 'UTC') AS rows_left,
            now() AS now,
            EXISTS (SELECT FROM $1:name.$3:name a, jsonb_array_elements(CASE WHEN jsonb_typeof(a.details->'partitions') = 'array' THEN a.details->'partitions' ELSE '[]' END) d
                     WHERE a.action = 'retention' AND a.at = g.dropped_at AND d->>'partition' = p.name) AS dropped_by_retention,
            (SELECT applied_at FROM $1:name.$5:name WHERE version = 1) AS log_created
       FROM $1:name.$2:name g
       LEFT JOIN $1:name.$6:name c ON c.chain_id = g.chain_id
       LEFT JOIN LATERAL unnest(string_to_array(nullif(g.partition, ''), ', ')) AS p(name) ON true
      WHERE $4 IS NULL OR g.chain_id = $4::uuid
      ORDER BY g.chain_id, g.from_seq`,
    [schema, names.gaps, names.audit, chain ?? null, names.migrations, names.chains, table],
  );
  const found = new Map<string, UnbackedGap>();
  for (const r of rows) {
    const key = `${r.chain_id}:${r.from_seq}`;
    if (found.has(key)) continue;
    const reason =
      r.kind === 'event'
        ? 'it is on an event chain, and retention never drops events'
        : r.kind === null
          ? 'its chain is not a registered chain of records'
          : partitionProblem(table, r);
    if (reason)
      found.set(key, {
        table: r.kind === 'event' ? 'events' : 'records',
        chain_id: r.chain_id,
        from_seq: Number(r.from_seq),
        to_seq: Number(r.to_seq),
        reason,
      });
  }
  return [...found.values()];
}
