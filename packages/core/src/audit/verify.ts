import { EVENT_HASH_COLUMNS, RECORD_HASH_COLUMNS, rowHash } from '../chain/canonical';
import { logTableNames } from '../sink/names';
import type { Database } from '../sink/pgp';
import { followGaps, loadGaps, unbackedGaps } from './chain-gaps';
import { forEachRowIn, inSnapshot, type Snapshot } from './cursor';

/** What verification found wrong, for one row or one chain. */
export interface ChainProblem {
  kind: 'changed' | 'missing' | 'inserted' | 'reordered' | 'truncated';
  table: 'records' | 'events';
  chain_id: string | null;
  /** The sequence number where the problem shows. */
  seq: number | null;
  /** The row it concerns (for missing rows: the first row after the gap). */
  id: string | null;
  message: string;
}

export interface ChainSummary {
  chain_id: string;
  table: 'records' | 'events';
  rows: number;
  first_seq: number | null;
  last_seq: number | null;
  last_hash: string | null;
  /** The head the chain table recorded; null for a chain no writer registered. */
  head: { seq: number; hash: string | null } | null;
  ok: boolean;
}

export interface VerifyReport {
  ok: boolean;
  /** Rows checked. */
  rows: number;
  chains: ChainSummary[];
  /** Every problem found (at most `maxProblems`), in chain and sequence order; the first is where tampering starts. */
  problems: ChainProblem[];
}

export interface VerifyOptions {
  /** Only this chain. */
  chain?: string;
  /** Stop after this sequence number (with `chain`): "does the chain verify up to this row?". */
  throughSeq?: number;
  /** Which tables: records, events, or both (default). */
  tables?: ('records' | 'events')[];
  /** Problems kept in the report. Default 100. */
  maxProblems?: number;
  /** Called with the number of rows checked so far. */
  onProgress?: (rows: number) => void;
}

/**
 * Recomputes every hash chain of a log table (and of its events) from the rows as stored, in constant
 * memory: each row's hash must match its content, each row must follow the one
 * before it (sequence number + 1, prev_hash = that row's hash) unless retention dropped the rows in
 * between (recorded with the hash of the last one dropped; the gaps of several retention runs that meet
 * count as one, and may start at the chain's first row; a gap no retention run accounts for is itself
 * a problem), every chain must end exactly at the head its writer recorded (same seq, same hash), and
 * every row must belong to a registered chain. Heads, gaps and rows are read in one snapshot, so rows
 * written meanwhile cannot show up as tampering. Names the first row that was changed, removed,
 * inserted or moved.
 */
export function verifyLog(db: Database, schema: string, table: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  return inSnapshot(db, (t) => verifyIn(t, schema, table, options));
}

async function verifyIn(t: Snapshot, schema: string, table: string, options: VerifyOptions): Promise<VerifyReport> {
  const names = logTableNames(schema, table);
  const report: VerifyReport = { ok: true, rows: 0, chains: [], problems: [] };
  const max = options.maxProblems ?? 100;
  const problem = (p: ChainProblem) => {
    report.ok = false;
    if (report.problems.length < max) report.problems.push(p);
  };
  const heads = new Map<string, { seq: number; hash: string | null; kind: string }>(
    (await t.any('SELECT chain_id, kind, last_seq, last_hash FROM $1:name.$2:name', [schema, names.chains])).map((r) => [r.chain_id, { seq: Number(r.last_seq), hash: r.last_hash, kind: r.kind }]),
  );
  const gaps = await loadGaps(t, schema, table);
  const tables = options.tables ?? ['records', 'events'];
  const gapsToCheck = tables.includes('records') ? await unbackedGaps(t, schema, table, options.chain) : [];
  for (const gap of gapsToCheck) {
    problem({
      kind: 'missing', table: 'records', chain_id: gap.chain_id, seq: gap.from_seq, id: null,
      message: `chain ${gap.chain_id}: the gap recorded for seq ${gap.from_seq}..${gap.to_seq} was not made by retention (${gap.reason}): rows were deleted and the gap written to hide it`,
    });
  }

  for (const which of tables) {
    const relation = which === 'records' ? table : names.events;
    const columns = which === 'records' ? RECORD_HASH_COLUMNS : EVENT_HASH_COLUMNS;
    let current: ChainSummary | null = null;
    let expectedPrev: string | null = null;

    const finish = () => {
      if (!current) return;
      const head = current.head;
      if (head && (current.last_seq ?? 0) < head.seq && !(options.throughSeq !== undefined)) {
        const covered = followGaps(gaps.get(current.chain_id), (current.last_seq ?? 0) + 1, head.seq);
        if (!covered || covered.to_seq < head.seq) {
          current.ok = false;
          problem({
            kind: 'truncated', table: which, chain_id: current.chain_id, seq: (current.last_seq ?? 0) + 1, id: null,
            message: `chain ${current.chain_id} ends at seq ${current.last_seq ?? 0} but its writer recorded rows up to seq ${head.seq}: seq ${(current.last_seq ?? 0) + 1}..${head.seq} are missing from the end`,
          });
        }
      }
      if (head && options.throughSeq === undefined && current.last_seq !== null) {
        if (current.last_seq > head.seq) {
          current.ok = false;
          problem({
            kind: 'inserted', table: which, chain_id: current.chain_id, seq: head.seq + 1, id: null,
            message: `chain ${current.chain_id} goes on to seq ${current.last_seq} but its writer recorded rows only up to seq ${head.seq}: seq ${head.seq + 1}..${current.last_seq} were added by something else`,
          });
        } else if (current.last_seq === head.seq && current.last_hash !== head.hash) {
          current.ok = false;
          problem({
            kind: 'changed', table: which, chain_id: current.chain_id, seq: head.seq, id: null,
            message: `chain ${current.chain_id}: its last row (seq ${head.seq}) is not the row its writer wrote: its hash differs from the head the writer recorded (replaced)`,
          });
        }
      }
      report.chains.push(current);
      current = null;
    };

    const where = options.chain ? `WHERE chain_id = $3${options.throughSeq !== undefined ? ' AND chain_seq <= $4' : ''}` : '';
    const sql = `SELECT * FROM $1:name.$2:name ${where} ORDER BY chain_id NULLS LAST, chain_seq, id`;
    await forEachRowIn(t, sql, [schema, relation, options.chain, options.throughSeq], (rows) => {
      for (const row of rows) {
        report.rows++;
        const id = String(row.id);
        const chainId = row.chain_id as string | null;
        if (!chainId) {
          problem({ kind: 'inserted', table: which, chain_id: null, seq: null, id, message: `row ${id} belongs to no chain: it was inserted by something other than an inferlog writer (or written before chains existed)` });
          continue;
        }
        const seq = Number(row.chain_seq);
        if (current?.chain_id !== chainId) {
          finish();
          const head = heads.get(chainId) ?? null;
          current = { chain_id: chainId, table: which, rows: 0, first_seq: seq, last_seq: null, last_hash: null, head: head && { seq: head.seq, hash: head.hash }, ok: true };
          expectedPrev = null;
          if (!head) {
            current.ok = false;
            problem({ kind: 'inserted', table: which, chain_id: chainId, seq, id, message: `row ${id} belongs to chain ${chainId}, which no writer registered: it was inserted` });
          }
        }
        const chain: ChainSummary = current!;
        const expectedSeq = (chain.last_seq ?? 0) + 1;
        chain.rows++;
        if (chain.last_seq !== null && seq === chain.last_seq) {
          chain.ok = false;
          problem({ kind: 'inserted', table: which, chain_id: chainId, seq, id, message: `row ${id} has seq ${seq} of chain ${chainId}, which another row has: a row was inserted into the chain` });
          continue;
        }
        if (seq !== expectedSeq) {
          // Also for the chain's first row: a gap from seq 1 means retention dropped the chain's start.
          const gap = followGaps(gaps.get(chainId), expectedSeq, seq - 1);
          if (gap?.to_seq === seq - 1) {
            expectedPrev = gap.last_hash;
          } else {
            chain.ok = false;
            // Rows missing right after what retention dropped: name the first one retention did not drop.
            const from = gap && gap.to_seq < seq - 1 ? gap.to_seq + 1 : expectedSeq;
            problem({ kind: 'missing', table: which, chain_id: chainId, seq: from, id, message: `chain ${chainId}: seq ${from}${seq - 1 > from ? `..${seq - 1}` : ''} ${seq - 1 > from ? 'are' : 'is'} missing before row ${id} (seq ${seq}): deleted` });
            expectedPrev = row.prev_hash as string | null;
          }
        }
        if (rowHash(row, columns) !== row.record_hash) {
          chain.ok = false;
          problem({ kind: 'changed', table: which, chain_id: chainId, seq, id, message: `row ${id} (chain ${chainId}, seq ${seq}) was changed after it was written: its content does not match its record_hash` });
        } else if ((row.prev_hash ?? null) !== expectedPrev) {
          chain.ok = false;
          problem({ kind: 'reordered', table: which, chain_id: chainId, seq, id, message: `row ${id} (chain ${chainId}, seq ${seq}) does not follow the row before it: its prev_hash is not that row's hash (rows reordered, replaced or inserted)` });
        }
        expectedPrev = row.record_hash as string | null;
        chain.last_seq = seq;
        chain.last_hash = expectedPrev;
      }
      options.onProgress?.(report.rows);
    });
    finish();
    // A registered chain with nothing left of it: every row deleted, unless retention dropped them all.
    const seen = new Set(report.chains.filter((c) => c.table === which).map((c) => c.chain_id));
    for (const [chainId, head] of heads) {
      if (head.kind !== (which === 'records' ? 'record' : 'event') || head.seq === 0 || seen.has(chainId)) continue;
      if (options.chain !== undefined && options.chain !== chainId) continue;
      const covered = followGaps(gaps.get(chainId), 1, head.seq);
      const summary: ChainSummary = { chain_id: chainId, table: which, rows: 0, first_seq: null, last_seq: null, last_hash: null, head: { seq: head.seq, hash: head.hash }, ok: true };
      if (!covered || covered.to_seq < head.seq) {
        summary.ok = false;
        problem({ kind: 'truncated', table: which, chain_id: chainId, seq: 1, id: null, message: `chain ${chainId} has no rows left but its writer recorded rows up to seq ${head.seq}: all of them are missing` });
      }
      report.chains.push(summary);
    }
  }
  return report;
}
