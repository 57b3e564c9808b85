import { logTableNames } from '../sink/names';
import type { Database } from '../sink/pgp';
import { loadGaps } from './chain-gaps';
import { inSnapshot, type Snapshot } from './cursor';
import type { ExportManifest, ManifestChain } from './manifest';
import { checkRegistrations } from './anchors-registrations';

/** A row or chain an earlier export recorded that the database no longer holds as it was. */
export interface AnchorProblem {
  kind: 'changed' | 'missing';
  /** The log's rows or its events; for a chain's registration, the kind of chain it was. */
  table: 'records' | 'events';
  chain_id: string;
  /** The row's sequence number; null when the problem is the chain's registration. */
  seq: number | null;
  message: string;
}

export interface AnchorReport {
  ok: boolean;
  /** Comparisons made: each chain's first row (prev_hash) and last row (record_hash). */
  checked: number;
  /** Rows the manifest names that retention has dropped since: nothing to compare, not a problem. */
  dropped: number;
  problems: AnchorProblem[];
}

/**
 * Compares a log with what an earlier export's manifest recorded of it: for each chain of records and
 * of events, the first row of the export must still have the prev_hash, and the last row the
 * record_hash, the manifest names; and every chain the export recorded must still be registered as it
 * was (`checkRegistrations`). A chain verifies on its own even when someone with the owner's rights
 * rewrote it and its head from some row on, or deleted it whole with its registration; the manifest,
 * kept outside the database (by an auditor, with the authority), is the anchor that shows it. Rows
 * retention has dropped since (recorded as gaps) are counted, not flagged.
 */
export function compareWithManifest(db: Database, schema: string, table: string, manifest: ExportManifest): Promise<AnchorReport> {
  return inSnapshot(db, async (t) => {
    const report: AnchorReport = { ok: true, checked: 0, dropped: 0, problems: [] };
    const problem = (p: AnchorProblem) => {
      report.ok = false;
      report.problems.push(p);
    };
    const names = logTableNames(schema, table);
    const gaps = await loadGaps(t, schema, table);
    const when = `the export of ${manifest.exported_at}`;
    await checkRegistrations(t, schema, table, manifest, problem);
    const tables = [['records', names.table, manifest.chains] as const, ['events', names.events, manifest.events?.chains ?? []] as const];
    for (const [which, relation, chains] of tables) {
      const rows = await endRows(t, schema, relation, chains);
      const check = (chainId: string, seq: number, what: 'prev_hash' | 'record_hash', expected: string | null) => {
        const at = rows.get(`${chainId}:${seq}`) ?? [];
        if (at.length === 0) {
          if ([...(gaps.get(chainId)?.values() ?? [])].some((g) => g.from_seq <= seq && seq <= g.to_seq)) {
            report.dropped++;
            return;
          }
          return problem({
            kind: 'missing',
            table: which,
            chain_id: chainId,
            seq,
            message: `${which === 'events' ? 'event ' : ''}chain ${chainId} seq ${seq}, which ${when} holds, is no longer in the database and retention did not drop it: deleted`,
          });
        }
        report.checked++;
        if (at.length > 1 || at[0]![what] !== expected) {
          const now = at.map((r) => r[what] ?? 'null').join(' and ');
          problem({
            kind: 'changed',
            table: which,
            chain_id: chainId,
            seq,
            message: `${which === 'events' ? 'event ' : ''}chain ${chainId} seq ${seq}: ${when} recorded ${what} ${expected ?? 'null'}; the database now holds ${now}: the chain was rewritten after that export`,
          });
        }
      };
      for (const c of chains) {
        if (c.chain_id === null || c.first_seq === null || c.last_seq === null) continue;
        check(c.chain_id, c.first_seq, 'prev_hash', c.first_prev_hash);
        check(c.chain_id, c.last_seq, 'record_hash', c.last_hash);
      }
    }
    return report;
  });
}

type EndRow = { prev_hash: string | null; record_hash: string | null };

/** The rows of `relation` at each chain's first and last seq in the export, by "chain:seq" (more than one when a seq was duplicated). */
async function endRows(t: Snapshot, schema: string, relation: string, chains: readonly ManifestChain[]): Promise<Map<string, EndRow[]>> {
  const ids: string[] = [];
  const seqs: number[] = [];
  for (const c of chains) {
    if (c.chain_id === null || c.first_seq === null || c.last_seq === null) continue;
    ids.push(c.chain_id, c.chain_id);
    seqs.push(c.first_seq, c.last_seq);
  }
  const rows = await t.any(
    `SELECT l.chain_id, l.chain_seq, l.prev_hash, l.record_hash FROM $1:name.$2:name l
      JOIN unnest($3::uuid[], $4::bigint[]) AS want(chain_id, chain_seq) ON l.chain_id = want.chain_id AND l.chain_seq = want.chain_seq`,
    [schema, relation, ids, seqs],
  );
  const found = new Map<string, EndRow[]>();
  for (const r of rows) {
    const key = `${r.chain_id}:${r.chain_seq}`;
    found.set(key, [...(found.get(key) ?? []), r]);
  }
  return found;
}
