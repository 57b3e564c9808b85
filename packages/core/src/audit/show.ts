import { storedText } from '../chain/canonical';
import { InferlogConfigError } from '../errors';
import { logTableNames } from '../sink/names';
import type { Database } from '../sink/pgp';
import { identificationOf, type IdentificationView } from './identification';
import { toEventRow, toRecordRow, type EventRow, type RecordRow } from './rows';
import { verifyLog, type ChainProblem } from './verify';
import { STATEMENT_TYPE, type CompletenessStatement, type LostRecord } from '../chain/statement';

/** Whether a chain verifies from its first row up to and including one row. */
export interface ChainCheck {
  /** `records` for an inference's chain, `events` for an event chain. */
  table: 'records' | 'events';
  chain_id: string;
  /** Verified through this sequence number. */
  through_seq: number;
  /** True when every row up to `through_seq` matches its hash and follows the one before it. */
  ok: boolean;
  /** Rows checked. */
  rows: number;
  problems: ChainProblem[];
}

/** One inference with its oversight events and the verification of its chain. */
export interface InferenceView {
  record: RecordRow;
  /** Events whose subject is the record's `id` or `request_id`, oldest first (in chain order within a chain). */
  events: EventRow[];
  /** The record's chain verified up to it; null when verification was not asked for, or the row belongs to no chain. */
  chain: ChainCheck | null;
  /**
   * Present when the record is annotated as an identification (`annotations.identification`, Art. 12(3)):
   * its reference database, whether it matched, its distinct verifiers among `events`, and whether it
   * passes (`audit/identification.ts`).
   */
  identification?: IdentificationView;
  /**
   * Its writer's first completeness statement that covers it (the record chain stored through its seq):
   * what the writer stated for that period. Null when none does yet (its writer states at an interval),
   * or the row belongs to no chain.
   */
  stated: StatedPeriod | null;
}

/** What one completeness statement said about its period (see `CompletenessStatement`). */
export type StatedPeriod = Pick<
  CompletenessStatement,
  'n' | 'from' | 'to' | 'final' | 'captured' | 'written' | 'spilled' | 'replayed' | 'dropped' | 'dropped_by_reason'
>;

/** What `showInference` found. */
export interface ShowResult {
  /** The id or request id asked for. */
  key: string;
  /** Rows that carry it (more than `inferences.length` when `limit` cut them). */
  total: number;
  /** The matching inferences, oldest first, at most `limit`. */
  inferences: InferenceView[];
  /** The event chains of the events shown, each verified up to its newest event shown. */
  event_chains: ChainCheck[];
  /**
   * Records with this id or request id that their writer's completeness statement says it dropped
   * (answered, never stored), with the writer's record chain and the statement's number.
   */
  dropped: (LostRecord & { chain_id: string; statement: number })[];
}

/** Options of `showInference`. */
export interface ShowOptions {
  /** Most inferences shown when several share a request id. Default 10. */
  limit?: number;
  /** Verify each chain up to the rows shown (reads the chain from its start). Default true. */
  verify?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function checkChain(
  db: Database,
  schema: string,
  table: string,
  which: 'records' | 'events',
  chainId: string,
  throughSeq: number,
): Promise<ChainCheck> {
  const report = await verifyLog(db, schema, table, { chain: chainId, throughSeq, tables: [which] });
  return {
    table: which,
    chain_id: chainId,
    through_seq: throughSeq,
    ok: report.ok && report.rows > 0,
    rows: report.rows,
    problems: report.problems,
  };
}

/** The highest sequence number per chain among rows. */
function chainTips(rows: readonly { chain_id: string | null; chain_seq: number | null }[]): Map<string, number> {
  const tips = new Map<string, number>();
  for (const r of rows) if (r.chain_id && r.chain_seq !== null) tips.set(r.chain_id, Math.max(tips.get(r.chain_id) ?? 0, r.chain_seq));
  return tips;
}

/**
 * One inference, by its `id` or its `request_id`, reconstructed from its row: with its oversight events
 * and, unless `verify: false`, whether its chain verifies from its start up to it (and each event chain
 * up to its events). Several rows may share a request id (clients reuse them): all are returned, up to
 * `limit`, oldest first, and `total` says how many there are.
 */
export async function showInference(
  db: Database,
  schema: string,
  table: string,
  key: string,
  options: ShowOptions = {},
): Promise<ShowResult> {
  const limit = options.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1) throw new InferlogConfigError(`limit must be a whole number of 1 or more; got ${limit}`);
  const names = logTableNames(schema, table);
  // The key as a request id is stored (U+0000 and lone surrogates as U+FFFD); request_id has a hash index.
  const stored = storedText(key);
  const match = UUID.test(key) ? '(id = $3::uuid OR request_id = $3)' : 'request_id = $3';
  const [{ total }] = await db.any(`SELECT count(*)::int AS total FROM $1:name.$2:name WHERE ${match}`, [schema, table, stored]);
  const found = (
    await db.any(`SELECT * FROM $1:name.$2:name WHERE ${match} ORDER BY started_at, id LIMIT $4`, [schema, table, stored, limit])
  ).map(toRecordRow);
  const subjects = [...new Set(found.flatMap((r) => [r.id, r.request_id]))];
  const events = subjects.length
    ? (
        await db.any('SELECT * FROM $1:name.$2:name WHERE subject = ANY($3::text[]) ORDER BY created_at, chain_id, chain_seq', [
          schema,
          names.events,
          subjects,
        ])
      ).map(toEventRow)
    : [];

  const verify = options.verify ?? true;
  const inferences: InferenceView[] = [];
  for (const record of found) {
    const chain =
      verify && record.chain_id && record.chain_seq !== null
        ? await checkChain(db, schema, table, 'records', record.chain_id, record.chain_seq)
        : null;
    const own = events.filter((e) => e.subject === record.id || e.subject === record.request_id);
    const identification = identificationOf(record.annotations, own);
    const stated =
      record.chain_id && record.chain_seq !== null ? await statementCovering(db, schema, table, record.chain_id, record.chain_seq) : null;
    inferences.push({ record, events: own, chain, ...(identification ? { identification } : {}), stated });
  }
  const eventChains: ChainCheck[] = [];
  if (verify) for (const [chainId, seq] of chainTips(events)) eventChains.push(await checkChain(db, schema, table, 'events', chainId, seq));
  const dropped = await droppedAs(db, schema, table, stored);
  return { key, total, inferences, event_chains: eventChains, dropped };
}

/** The first statement of a record chain's writer that covers seq `seq`; null when none does. */
async function statementCovering(db: Database, schema: string, table: string, chainId: string, seq: number): Promise<StatedPeriod | null> {
  const row = await db.oneOrNone(
    `SELECT data FROM $1:name.$2:name
      WHERE type = $3 AND subject = $4 AND CASE WHEN jsonb_typeof(data -> 'through_seq') = 'number' THEN (data ->> 'through_seq')::numeric END >= $5
      ORDER BY created_at, id LIMIT 1`,
    [schema, logTableNames(schema, table).events, STATEMENT_TYPE, chainId, seq],
  );
  if (!row) return null;
  const d = row.data as CompletenessStatement;
  return {
    n: d.n,
    from: d.from,
    to: d.to,
    final: d.final,
    captured: d.captured,
    written: d.written,
    spilled: d.spilled,
    replayed: d.replayed,
    dropped: d.dropped,
    dropped_by_reason: d.dropped_by_reason,
  };
}

/** What the completeness statements say was dropped under this id or request id (as stored). */
async function droppedAs(db: Database, schema: string, table: string, key: string): Promise<ShowResult['dropped']> {
  const rows = await db.any(
    `SELECT s.subject, s.data -> 'n' AS n, lost
       FROM $1:name.$2:name s, jsonb_array_elements(CASE WHEN jsonb_typeof(s.data -> 'lost') = 'array' THEN s.data -> 'lost' ELSE '[]' END) lost
      WHERE s.type = $3 AND (lost ->> 'request_id' = $4 OR lost ->> 'id' = $4)
      ORDER BY s.created_at, s.id`,
    [schema, logTableNames(schema, table).events, STATEMENT_TYPE, key],
  );
  return rows.map((r) => ({ ...(r.lost as LostRecord), chain_id: r.subject as string, statement: Number(r.n) }));
}
