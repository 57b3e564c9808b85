import { logTableNames } from '../sink/names';
import type { Database } from '../sink/pgp';
import { loadGaps } from './chain-gaps';
import { inSnapshot } from './cursor';
import type { ExportManifest } from './manifest';

/** A row an earlier export recorded that the database no longer holds as it was. */
export interface AnchorProblem {
  kind: 'changed' | 'missing';
  chain_id: string;
  seq: number;
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
 * Compares a log with what an earlier export's manifest recorded of it: for each chain, the first row
 * of the export must still have the prev_hash, and the last row the record_hash, the manifest names.
 * A chain verifies on its own even when someone with the owner's rights rewrote it and its head from
 * some row on; the manifest, kept outside the database (by an auditor, with the authority), is the
 * anchor that shows it. Rows retention has dropped since (recorded as gaps) are counted, not flagged.
 */
export function compareWithManifest(db: Database, schema: string, table: string, manifest: ExportManifest): Promise<AnchorReport> {
  return inSnapshot(db, async (t) => {
    const report: AnchorReport = { ok: true, checked: 0, dropped: 0, problems: [] };
    const gaps = await loadGaps(t, schema, table);
    const wanted = manifest.chains.filter((c) => c.chain_id !== null && c.first_seq !== null && c.last_seq !== null);
    const ids: string[] = [];
    const seqs: number[] = [];
    for (const c of wanted) {
      ids.push(c.chain_id!, c.chain_id!);
      seqs.push(c.first_seq!, c.last_seq!);
    }
    const rows = await t.any(
      `SELECT l.chain_id, l.chain_seq, l.prev_hash, l.record_hash FROM $1:name.$2:name l
        JOIN unnest($3::uuid[], $4::bigint[]) AS want(chain_id, chain_seq) ON l.chain_id = want.chain_id AND l.chain_seq = want.chain_seq`,
      [schema, logTableNames(schema, table).table, ids, seqs],
    );
    const found = new Map<string, { prev_hash: string | null; record_hash: string | null }[]>();
    for (const r of rows) {
      const key = `${r.chain_id}:${r.chain_seq}`;
      found.set(key, [...(found.get(key) ?? []), r]);
    }
    const when = `the export of ${manifest.exported_at}`;
    const check = (chainId: string, seq: number, what: 'prev_hash' | 'record_hash', expected: string | null) => {
      const at = found.get(`${chainId}:${seq}`) ?? [];
      if (at.length === 0) {
        if ([...(gaps.get(chainId)?.values() ?? [])].some((g) => g.from_seq <= seq && seq <= g.to_seq)) {
          report.dropped++;
          return;
        }
        report.ok = false;
        report.problems.push({
          kind: 'missing',
          chain_id: chainId,
          seq,
          message: `chain ${chainId} seq ${seq}, which ${when} holds, is no longer in the database and retention did not drop it: deleted`,
        });
        return;
      }
      report.checked++;
      if (at.length > 1 || at[0]![what] !== expected) {
        report.ok = false;
        const now = at.map((r) => r[what] ?? 'null').join(' and ');
        report.problems.push({
          kind: 'changed',
          chain_id: chainId,
          seq,
          message: `chain ${chainId} seq ${seq}: ${when} recorded ${what} ${expected ?? 'null'}; the database now holds ${now}: the chain was rewritten after that export`,
        });
      }
    };
    for (const c of wanted) {
      check(c.chain_id!, c.first_seq!, 'prev_hash', c.first_prev_hash);
      check(c.chain_id!, c.last_seq!, 'record_hash', c.last_hash);
    }
    return report;
  });
}
