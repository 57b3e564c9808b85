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

/**
 * Gap rows not backed by a retention run: a gap is only ever recorded by retention, in the transaction
 * that drops the partitions it names and records the run in the audit table. A gap whose partitions
 * still exist, or that no `retention` audit row lists, was written by hand — most likely to cover rows
 * deleted from the log.
 */
export async function unbackedGaps(t: IBaseProtocol<unknown>, schema: string, table: string, chain?: string): Promise<UnbackedGap[]> {
  const names = logTableNames(schema, table);
  const rows = await t.any(
    `SELECT g.chain_id, g.from_seq, g.to_seq, p.name,
            to_regclass(format('%I.%I', $1::text, p.name)) IS NOT NULL AS still_there,
            EXISTS (SELECT FROM $1:name.$3:name a, jsonb_array_elements(CASE WHEN jsonb_typeof(a.details->'partitions') = 'array' THEN a.details->'partitions' ELSE '[]' END) d
                     WHERE a.action = 'retention' AND d->>'partition' = p.name) AS dropped_by_retention
       FROM $1:name.$2:name g, unnest(string_to_array(g.partition, ', ')) AS p(name)
      WHERE $4 IS NULL OR g.chain_id = $4::uuid
      ORDER BY g.chain_id, g.from_seq`,
    [schema, names.gaps, names.audit, chain ?? null],
  );
  const found = new Map<string, UnbackedGap>();
  for (const r of rows) {
    const key = `${r.chain_id}:${r.from_seq}`;
    if (found.has(key)) continue;
    const reason = r.still_there
      ? `its partition ${r.name} still exists`
      : !r.dropped_by_retention
        ? `no retention run in the audit table dropped its partition ${r.name}`
        : null;
    if (reason) found.set(key, { chain_id: r.chain_id, from_seq: Number(r.from_seq), to_seq: Number(r.to_seq), reason });
  }
  return [...found.values()];
}
