import { logTableNames } from '../sink/names';
import type { Database } from '../sink/pgp';
import { loadGaps } from './chain-gaps';
import { inSnapshot, type Snapshot } from './cursor';
import type { ExportManifest, ManifestChain } from './manifest';
import { checkRegistrations } from './anchors-registrations';
import { compareRows, exportFilesBeside, rowsAt, type StoredLinks } from './anchors-rows';

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
  /**
   * `rows`: every row of the export's files (records and events) was looked up in the database;
   * `ends`: only each chain's first and last row the manifest records (the files were not given, not
   * beside the manifest, or do not match it: see `ends_only_because`).
   */
  compared: 'rows' | 'ends';
  /** Why only the chain ends were compared; absent when every row was. */
  ends_only_because?: string;
  /** Rows found in the database and compared (with `ends`: comparisons of each chain's first row's prev_hash and last row's record_hash). */
  checked: number;
  /** Exported records whose month's partition retention has dropped since (with `ends`: rows a gap covers): nothing to compare, not a problem. */
  dropped: number;
  /** The problems found, at most `maxProblems` (the report is not ok if there were any). */
  problems: AnchorProblem[];
}

export interface CompareOptions {
  /**
   * The directory the manifest is in, where the export's files are (the CLI passes the manifest's).
   * With it, every exported row is compared; without it (or when the files are not there, or do not
   * match the manifest's sizes and SHA-256), only each chain's first and last row.
   */
  dir?: string;
  /** Problems kept in the report. Default 100. */
  maxProblems?: number;
}

/**
 * Compares a log with what an earlier export recorded of it: every row of the export's files (records
 * and events, with `dir`) must still be in the database with the same record_hash, unless it is a
 * record whose month's partition retention has dropped since (counted, not flagged; events are never
 * dropped); and every chain the export recorded must still be registered as it was
 * (`checkRegistrations`). A chain verifies on its own even when someone with the owner's rights
 * rewrote it and its head from some row on, deleted it whole with its registration, or deleted rows and
 * wrote a gap and a retention audit row to cover them; the export, kept outside the database (by an
 * auditor, with the authority), is the anchor that shows it. Without the files, only each chain's first
 * row (prev_hash) and last row (record_hash) the manifest records are compared.
 */
export function compareWithManifest(
  db: Database,
  schema: string,
  table: string,
  manifest: ExportManifest,
  options: CompareOptions = {},
): Promise<AnchorReport> {
  return inSnapshot(db, async (t) => {
    const files =
      options.dir === undefined ? "no directory with the export's files was given" : await exportFilesBeside(options.dir, manifest);
    const report: AnchorReport = {
      ok: true,
      compared: typeof files === 'string' ? 'ends' : 'rows',
      ...(typeof files === 'string' && { ends_only_because: files }),
      checked: 0,
      dropped: 0,
      problems: [],
    };
    const max = options.maxProblems ?? 100;
    const problem = (p: AnchorProblem) => {
      report.ok = false;
      if (report.problems.length < max) report.problems.push(p);
    };
    await checkRegistrations(t, schema, table, manifest, problem);
    if (typeof files !== 'string') {
      Object.assign(report, await compareRows(t, schema, table, manifest, files, problem));
      return report;
    }
    const names = logTableNames(schema, table);
    const gaps = await loadGaps(t, schema, table);
    const when = `the export of ${manifest.exported_at}`;
    const tables = [['records', names.table, manifest.chains] as const, ['events', names.events, manifest.events?.chains ?? []] as const];
    for (const [which, relation, chains] of tables) {
      const rows = await endRows(t, schema, relation, chains);
      const check = (chainId: string, seq: number, what: 'prev_hash' | 'record_hash', expected: string | null) => {
        const at = rows.get(`${chainId}:${seq}`) ?? [];
        if (at.length === 0) {
          // Retention never drops events; a gap on an event chain is named by verify as written by hand.
          if (which === 'records' && [...(gaps.get(chainId)?.values() ?? [])].some((g) => g.from_seq <= seq && seq <= g.to_seq)) {
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

/** The rows of `relation` at each chain's first and last seq in the export, by "chain:seq" (more than one when a seq was duplicated). */
function endRows(t: Snapshot, schema: string, relation: string, chains: readonly ManifestChain[]): Promise<Map<string, StoredLinks[]>> {
  const ids: string[] = [];
  const seqs: number[] = [];
  for (const c of chains) {
    if (c.chain_id === null || c.first_seq === null || c.last_seq === null) continue;
    ids.push(c.chain_id, c.chain_id);
    seqs.push(c.first_seq, c.last_seq);
  }
  return rowsAt(t, schema, relation, ids, seqs);
}
