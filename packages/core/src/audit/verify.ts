import { EVENT_HASH_COLUMNS, RECORD_HASH_COLUMNS, rowHash } from '../chain/canonical';
import { logTableNames } from '../sink/names';
import type { Database } from '../sink/pgp';
import { followGaps, loadGaps, unbackedGaps, type Gap } from './chain-gaps';
import { headSignatureProblem, headSigned, loadHeads, loadKeyEra, type ChainHead, type ChainOrigin, type KeyEra } from './chain-heads';
import { ChainWalk, type ChainFinding, type WalkRow } from './chain-walk';
import { forEachStoredRowIn, inSnapshot, type Snapshot } from './cursor';
import { logCompleteness, type CompletenessOptions, type CompletenessReport } from './completeness';

/** What verification found wrong, for one row or one chain. */
export interface ChainProblem {
  /** `forged`: a chain's head is not signed by the key its writer registered, or a chain was registered without a key. */
  kind: 'changed' | 'missing' | 'inserted' | 'reordered' | 'truncated' | 'forged';
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
  /** Whether the recorded head is signed by the key the chain's writer registered (false for chains registered before chain keys). */
  signed: boolean;
  /** Who registered the chain, as the server saw it; null for unregistered chains and those registered before chain keys. */
  origin: ChainOrigin | null;
  ok: boolean;
}

export interface VerifyReport {
  ok: boolean;
  /** Rows checked. */
  rows: number;
  chains: ChainSummary[];
  /** Every problem found (at most `maxProblems`), in chain and sequence order; the first is where tampering starts. */
  problems: ChainProblem[];
  /**
   * What the writers' completeness statements say: records lost and why, writers that fell silent.
   * Losses are not tampering: they leave `ok` alone. A statement that is not its writer's is a problem.
   * Null when only one chain or one table was verified.
   */
  completeness: CompletenessReport | null;
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
  /** The period the completeness report covers (the chains are always verified whole). Default: the whole log. */
  completeness?: CompletenessOptions;
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
  return inSnapshot(db, (t) => verifyLogIn(t, schema, table, options));
}

type Which = 'records' | 'events';
type Head = ChainHead;

/** One verification: its snapshot, what it read up front, and what it has found. */
interface Run {
  t: Snapshot;
  schema: string;
  table: string;
  options: VerifyOptions;
  report: VerifyReport;
  heads: Map<string, Head>;
  /** When chain keys became required (migration 5), or null. */
  keyEra: KeyEra;
  gaps: Map<string, Map<number, Gap>>;
  problem(p: ChainProblem): void;
}

/** A row of the log or its events, as the chain walk reads it. */
interface DbRow extends WalkRow {
  id: string;
  row: Record<string, unknown>;
}

/** `verifyLog` inside a snapshot the caller holds, so what else it reads there describes the same rows. */
export async function verifyLogIn(t: Snapshot, schema: string, table: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const report: VerifyReport = { ok: true, rows: 0, chains: [], problems: [], completeness: null };
  const max = options.maxProblems ?? 100;
  const problem = (p: ChainProblem) => {
    report.ok = false;
    if (report.problems.length < max) report.problems.push(p);
  };
  const heads = await loadHeads(t, schema, table);
  const keyEra = await loadKeyEra(t, schema, table);
  const gaps = await loadGaps(t, schema, table);
  const tables = options.tables ?? ['records', 'events'];
  for (const gap of await unbackedGaps(t, schema, table, options.chain)) {
    if (!tables.includes(gap.table)) continue;
    problem({
      kind: 'missing',
      table: gap.table,
      chain_id: gap.chain_id,
      seq: gap.from_seq,
      id: null,
      message: `chain ${gap.chain_id}: the gap recorded for seq ${gap.from_seq}..${gap.to_seq} was not made by retention (${gap.reason}): rows were deleted and the gap written to hide it`,
    });
  }
  const run: Run = { t, schema, table, options, report, heads, keyEra, gaps, problem };
  for (const which of tables) {
    await walkTable(run, which);
    checkEmptyChains(run, which);
  }
  if (!options.chain && tables.includes('records') && tables.includes('events')) {
    report.completeness = await logCompleteness(t, schema, table, options.completeness);
    for (const p of report.completeness.problems)
      problem({ kind: p.kind, table: 'events', chain_id: p.chain_id, seq: null, id: p.event_id, message: p.message });
  }
  return report;
}

/** Walks every chain of one table, in chain order, through a cursor. */
async function walkTable(run: Run, which: Which): Promise<void> {
  const { t, schema, options, report } = run;
  const relation = which === 'records' ? run.table : logTableNames(schema, run.table).events;
  const columns = which === 'records' ? RECORD_HASH_COLUMNS : EVENT_HASH_COLUMNS;
  let walk: ChainWalk<DbRow, ChainSummary> | null = null;
  const finish = () => {
    if (!walk) return;
    if (options.throughSeq === undefined) {
      checkHead(run, walk.chain);
      checkHeadSignature(run, walk.chain);
    }
    report.chains.push(walk.chain);
    walk = null;
  };

  const where = options.chain ? `WHERE chain_id = $3${options.throughSeq !== undefined ? ' AND chain_seq <= $4' : ''}` : '';
  const sql = `SELECT * FROM $1:name.$2:name ${where} ORDER BY chain_id NULLS LAST, chain_seq, id`;
  await forEachStoredRowIn(t, sql, [schema, relation, options.chain, options.throughSeq], (rows) => {
    for (const row of rows) {
      report.rows++;
      const id = String(row.id);
      const chainId = row.chain_id as string | null;
      if (!chainId) {
        run.problem({
          kind: 'inserted',
          table: which,
          chain_id: null,
          seq: null,
          id,
          message: `row ${id} belongs to no chain: it was inserted by something other than an inferlog writer (or written before chains existed)`,
        });
        continue;
      }
      const seq = Number(row.chain_seq);
      if (walk?.chain.chain_id !== chainId) {
        finish();
        walk = beginChain(run, which, columns, chainId, seq, id);
      }
      walk.step({ seq, id, row, prev_hash: row.prev_hash ?? null, record_hash: row.record_hash as string | null });
    }
    options.onProgress?.(report.rows);
  });
  finish();
}

function beginChain(
  run: Run,
  which: Which,
  columns: typeof RECORD_HASH_COLUMNS | typeof EVENT_HASH_COLUMNS,
  chainId: string,
  seq: number,
  id: string,
): ChainWalk<DbRow, ChainSummary> {
  const head = run.heads.get(chainId) ?? null;
  const chain: ChainSummary = {
    chain_id: chainId,
    table: which,
    rows: 0,
    first_seq: seq,
    last_seq: null,
    last_hash: null,
    head: head && { seq: head.seq, hash: head.hash },
    signed: head !== null && headSigned(chainId, head),
    origin: head?.origin ?? null,
    ok: true,
  };
  if (!head) {
    chain.ok = false;
    run.problem({
      kind: 'inserted',
      table: which,
      chain_id: chainId,
      seq,
      id,
      message: `row ${id} belongs to chain ${chainId}, which no writer registered: it was inserted`,
    });
  }
  const gaps = run.gaps.get(chainId);
  return new ChainWalk(chain, {
    // The walk starts before seq 1: a gap from seq 1 means retention dropped the chain's start.
    start: { seq: 0, hash: null },
    sorted: true,
    contentFirst: false,
    changed: (r) => rowHash(r.row, columns) !== r.row.record_hash,
    bridge: (from, to) => {
      const gap = followGaps(gaps, from, to);
      if (gap?.to_seq === to) return { hash: gap.last_hash };
      // Rows missing right after what retention dropped: name the first one retention did not drop.
      return { missingFrom: gap && gap.to_seq < to ? gap.to_seq + 1 : from };
    },
    report: (finding, r) => run.problem(rowProblem(finding, which, chainId, r)),
  });
}

function rowProblem(finding: ChainFinding, table: Which, chainId: string, { id, seq }: DbRow): ChainProblem {
  switch (finding.kind) {
    case 'behind':
      return {
        kind: 'inserted',
        table,
        chain_id: chainId,
        seq,
        id,
        message: `row ${id} has seq ${seq} of chain ${chainId}, which another row has: a row was inserted into the chain`,
      };
    case 'missing': {
      const { from, to } = finding;
      return {
        kind: 'missing',
        table,
        chain_id: chainId,
        seq: from,
        id,
        message: `chain ${chainId}: seq ${from}${to > from ? `..${to}` : ''} ${to > from ? 'are' : 'is'} missing before row ${id} (seq ${seq}): deleted`,
      };
    }
    case 'changed':
      return {
        kind: 'changed',
        table,
        chain_id: chainId,
        seq,
        id,
        message: `row ${id} (chain ${chainId}, seq ${seq}) was changed after it was written: its content does not match its record_hash`,
      };
    case 'unlinked':
      return {
        kind: 'reordered',
        table,
        chain_id: chainId,
        seq,
        id,
        message: `row ${id} (chain ${chainId}, seq ${seq}) does not follow the row before it: its prev_hash is not that row's hash (rows reordered, replaced or inserted)`,
      };
  }
}

/** The chain must end at the head its writer recorded: not short of it (unless retention dropped the rest), not past it, not on another row. */
function checkHead(run: Run, chain: ChainSummary): void {
  const { head, chain_id: chainId, table: which } = chain;
  if (!head) return;
  const last = chain.last_seq;
  const end = last ?? 0;
  if (end < head.seq) {
    const covered = followGaps(run.gaps.get(chainId), end + 1, head.seq);
    if (!covered || covered.to_seq < head.seq) {
      chain.ok = false;
      run.problem({
        kind: 'truncated',
        table: which,
        chain_id: chainId,
        seq: end + 1,
        id: null,
        message: `chain ${chainId} ends at seq ${end} but its writer recorded rows up to seq ${head.seq}: seq ${end + 1}..${head.seq} are missing from the end`,
      });
    }
  } else if (last !== null && last > head.seq) {
    chain.ok = false;
    run.problem({
      kind: 'inserted',
      table: which,
      chain_id: chainId,
      seq: head.seq + 1,
      id: null,
      message: `chain ${chainId} goes on to seq ${last} but its writer recorded rows only up to seq ${head.seq}: seq ${head.seq + 1}..${last} were added by something else`,
    });
  } else if (last === head.seq && chain.last_hash !== head.hash) {
    chain.ok = false;
    run.problem({
      kind: 'changed',
      table: which,
      chain_id: chainId,
      seq: head.seq,
      id: null,
      message: `chain ${chainId}: its last row (seq ${head.seq}) is not the row its writer wrote: its hash differs from the head the writer recorded (replaced)`,
    });
  }
}

/** The recorded head must be signed by the key the chain's writer registered (see chain/head-signature.ts). */
function checkHeadSignature(run: Run, chain: ChainSummary): void {
  const head = run.heads.get(chain.chain_id);
  const message = head && headSignatureProblem(chain.chain_id, head, run.keyEra);
  if (!message) return;
  chain.ok = false;
  run.problem({ kind: 'forged', table: chain.table, chain_id: chain.chain_id, seq: head!.seq, id: null, message });
}

/** A registered chain with nothing left of it: every row deleted, unless retention dropped them all. */
function checkEmptyChains(run: Run, which: Which): void {
  const seen = new Set(run.report.chains.filter((c) => c.table === which).map((c) => c.chain_id));
  for (const [chainId, head] of run.heads) {
    if (head.kind !== (which === 'records' ? 'record' : 'event') || head.seq === 0 || seen.has(chainId)) continue;
    if (run.options.chain !== undefined && run.options.chain !== chainId) continue;
    const covered = followGaps(run.gaps.get(chainId), 1, head.seq);
    const summary: ChainSummary = {
      chain_id: chainId,
      table: which,
      rows: 0,
      first_seq: null,
      last_seq: null,
      last_hash: null,
      head: { seq: head.seq, hash: head.hash },
      signed: headSigned(chainId, head),
      origin: head.origin,
      ok: true,
    };
    checkHeadSignature(run, summary);
    if (!covered || covered.to_seq < head.seq) {
      summary.ok = false;
      run.problem({
        kind: 'truncated',
        table: which,
        chain_id: chainId,
        seq: 1,
        id: null,
        message: `chain ${chainId} has no rows left but its writer recorded rows up to seq ${head.seq}: all of them are missing`,
      });
    }
    run.report.chains.push(summary);
  }
}
