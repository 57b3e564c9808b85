import type { IBaseProtocol } from 'pg-promise';
import { STATEMENT_TYPE, statementSignatureValid, type LossReason, type LostRecord } from '../chain/statement';
import { logTableNames } from '../sink/names';
import { iso } from './chain-heads';

/** What one writer's statements say, over the statements read (the whole log, or those of a period). */
export interface WriterCompleteness {
  /** The writer's record chain. */
  chain_id: string;
  host: string;
  pid: number;
  service: string | null;
  /** When the writer started its chain (ISO 8601). */
  started_at: string;
  /** The interval it promised to state at (ms); null for a writer older than completeness statements. */
  interval_ms: number | null;
  /**
   * `closed`: its last statement is its final one, at `close()`; `exited`: at the process's exit without
   * `close()`; `stating`: it stated within two intervals; `silent`: it stopped stating without a final
   * statement (killed, crashed, cut off from the database) — records it captured after `silent_since`
   * may be lost; `unstated`: it registered before completeness statements existed, so its completeness is unknown.
   */
  state: 'closed' | 'exited' | 'stating' | 'silent' | 'unstated';
  /** Statements read. */
  statements: number;
  /** The periods they cover: from the first one's start to the last one's end (ISO 8601); null without statements. */
  from: string | null;
  to: string | null;
  /** Sums over the statements read. */
  captured: number;
  written: number;
  spilled: number;
  replayed: number;
  dropped: number;
  dropped_by_reason: Partial<Record<LossReason, number>>;
  /** The dropped records the statements name (at most 100 here; `dropped` counts them all). */
  lost: LostRecord[];
  /** Journal bytes that could not be read back (records of unknown number). */
  unreadable_journal_bytes: number;
  /** For a silent writer: its last statement's end (or its start, without one). Records captured after it may be lost. */
  silent_since: string | null;
  /**
   * When the server last heard from the writer (a head of its record chain or of its statements' event
   * chain moved, or it registered; the server's clock, ISO 8601).
   */
  last_heard: string | null;
  /** For a silent writer: its last stored record's end (ISO 8601): it was alive at least until then. */
  last_record_at: string | null;
  /** For a silent writer: when its next statement was due. */
  statement_due: string | null;
}

/** A statement that is not what its writer stored: verify reports these as integrity problems. */
export interface StatementProblem {
  chain_id: string;
  /** The statement's event row. */
  event_id: string;
  kind: 'forged' | 'missing';
  message: string;
}

/** What the log says about its own completeness. */
export interface CompletenessReport {
  /** No losses stated (records dropped, journal bytes unreadable), no writer silent or unstated. */
  complete: boolean;
  /** Records the statements say were lost. */
  dropped: number;
  /** Writers that fell silent. */
  silent: number;
  /** Writers that do not state (older than completeness statements). */
  unstated: number;
  /** Journal bytes the statements say could not be read back: records of unknown number, lost. */
  unreadable_journal_bytes: number;
  writers: WriterCompleteness[];
  problems: StatementProblem[];
}

/** Read only the statements that overlap a period; without it, all of them. */
export interface CompletenessOptions {
  since?: Date;
  until?: Date;
}

const MAX_LOST_SHOWN = 100;
const COUNTS = ['captured', 'written', 'spilled', 'replayed', 'dropped'] as const;
/** A writer is silent once its next statement is this many intervals late, plus a second. */
const SILENT_AFTER_INTERVALS = 2;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * What a log's completeness statements say, per writer (record chain): what each stored and lost and
 * why, and which writers fell silent without a final statement, with the window in which their records
 * may be lost. Each statement must be signed by the key of the record chain it speaks for, numbered
 * without holes, and start where the one before it ended; a statement that is not is a problem. Reads in
 * `t` (a snapshot, for verify), statements through their partial index.
 */
export async function logCompleteness(
  t: IBaseProtocol<unknown>,
  schema: string,
  table: string,
  options: CompletenessOptions = {},
): Promise<CompletenessReport> {
  const names = logTableNames(schema, table);
  const [{ now }] = await t.any('SELECT now() AS now');
  const registrations = (await t.any('SELECT * FROM $1:name.$2:name ORDER BY started_at, chain_id', [schema, names.chains])) as Record<
    string,
    unknown
  >[];
  const chains = registrations.filter((c) => c.kind === 'record');
  // When the server last heard from each chain (its head moved): the silence is judged on the server's clock, not a writer's.
  const heard = new Map(registrations.map((c) => [c.chain_id as string, (c.updated_at as Date | null)?.getTime() ?? 0]));
  // The latest statement of each writer, whatever the period: it decides whether the writer fell silent.
  const latest = new Map<string, { id: string; data: Record<string, unknown>; eventChain: string | null; head: boolean }>(
    (
      await t.any(
        `SELECT DISTINCT ON (s.subject) s.id, s.subject, s.chain_id, s.data, s.chain_seq = c.last_seq AS head
           FROM $1:name.$2:name s LEFT JOIN $1:name.$4:name c ON c.chain_id = s.chain_id
          WHERE s.type = $3 ORDER BY s.subject, s.created_at DESC, s.id DESC`,
        [schema, names.events, STATEMENT_TYPE, names.chains],
      )
    ).map((r) => [
      r.subject as string,
      { id: r.id as string, data: r.data as Record<string, unknown>, eventChain: r.chain_id as string | null, head: r.head === true },
    ]),
  );
  const statements = await statementsOf(t, names, chains, options, (chainId) => clockOffset(latest.get(chainId), heard));

  const report: CompletenessReport = {
    complete: true,
    dropped: 0,
    silent: 0,
    unstated: 0,
    unreadable_journal_bytes: 0,
    writers: [],
    problems: [],
  };
  const byChain = new Map<string, Record<string, unknown>[]>();
  for (const s of statements) {
    const subject = s.subject as string;
    const list = byChain.get(subject) ?? [];
    list.push(s);
    byChain.set(subject, list);
  }
  const registered = new Map(chains.map((c) => [c.chain_id as string, c]));
  for (const [subject, list] of byChain) {
    if (!registered.has(subject))
      for (const s of list)
        report.problems.push({
          chain_id: subject,
          event_id: s.id as string,
          kind: 'forged',
          message: `completeness statement ${s.id} speaks for ${subject}, which is not a registered record chain: it was not written by an inferlog writer`,
        });
  }

  for (const chain of chains) {
    const chainId = chain.chain_id as string;
    const list = byChain.get(chainId) ?? [];
    const interval = chain.statement_interval_ms == null ? null : Number(chain.statement_interval_ms);
    const writer = summarise(chain, interval, list, report.problems, !options.since);
    const latestStatement = latest.get(chainId) ?? null;
    // Only a statement the chain's key signed decides how the writer stands (summarise names the others).
    const signed = latestStatement && statementSignatureValid((chain.public_key as string | null) ?? null, latestStatement.data);
    const last = signed ? latestStatement.data : null;
    if (latestStatement && !signed && !report.problems.some((p) => p.event_id === latestStatement.id))
      report.problems.push({
        chain_id: chainId,
        event_id: latestStatement.id,
        kind: 'forged',
        message: `completeness statement ${latestStatement.id} of chain ${chainId}, its latest, is not signed by the key the chain registered: it was written or changed by someone other than the chain's writer`,
      });
    const eventChain = signed ? latestStatement.eventChain : undefined;
    const lastHeard = Math.max(heard.get(chainId) ?? 0, eventChain ? (heard.get(eventChain) ?? 0) : 0);
    // The interval the writer signed in its last statement, over the registration's (which the owner could edit).
    const promised = typeof last?.interval_ms === 'number' ? last.interval_ms : interval;
    writer.state = stateOf(promised, last, lastHeard, now as Date);
    writer.last_heard = lastHeard ? new Date(lastHeard).toISOString() : null;
    if (writer.state === 'silent') {
      writer.silent_since = last ? String(last.to) : iso(chain.started_at);
      writer.statement_due = new Date(Date.parse(writer.silent_since!) + promised!).toISOString();
      const row = await t.oneOrNone('SELECT ended_at FROM $1:name.$2:name WHERE chain_id = $3 ORDER BY chain_seq DESC LIMIT 1', [
        schema,
        table,
        chainId,
      ]);
      writer.last_record_at = iso(row?.ended_at);
    }
    const silentInPeriod = writer.state === 'silent' && silenceOverlaps(writer, options);
    if (!(list.length > 0 || silentInPeriod || overlaps(writer, options))) continue;
    report.writers.push(writer);
    report.dropped += writer.dropped;
    report.unreadable_journal_bytes += writer.unreadable_journal_bytes;
    if (silentInPeriod) report.silent++;
    if (writer.state === 'unstated') report.unstated++;
  }
  report.complete = report.dropped === 0 && report.silent === 0 && report.unstated === 0 && report.unreadable_journal_bytes === 0;
  return report;
}

/**
 * How far the server's clock was ahead of the writer's (ms), from its latest statement: when that is the
 * newest row of its event chain, the chain's `updated_at` is when the server stored it, and the
 * statement's end is when the writer made it (a statement not stored at once is made again when it can
 * be: its end is about when it was stored). 0 when the log cannot tell.
 */
function clockOffset(
  latest: { data: Record<string, unknown>; eventChain: string | null; head: boolean } | undefined,
  heard: Map<string, number>,
): number {
  if (!latest?.head || !latest.eventChain) return 0;
  const stored = heard.get(latest.eventChain);
  const made = Date.parse(String(latest.data.to));
  return stored && Number.isFinite(made) ? stored - made : 0;
}

/**
 * The statements to read: all of them, or those of the period, on each writer's clock shifted to the
 * server's (`offset`): a writer whose clock runs behind would otherwise have its losses fall out of a
 * period they belong to.
 */
async function statementsOf(
  t: IBaseProtocol<unknown>,
  names: ReturnType<typeof logTableNames>,
  chains: Record<string, unknown>[],
  { since, until }: CompletenessOptions,
  offset: (chainId: string) => number,
): Promise<Record<string, unknown>[]> {
  if (!since && !until) {
    return t.any('SELECT id, subject, created_at, data FROM $1:name.$2:name WHERE type = $3 ORDER BY subject, created_at, id', [
      names.schema,
      names.events,
      STATEMENT_TYPE,
    ]);
  }
  const ids = chains.map((c) => c.chain_id as string);
  const onWriterClock = (at: Date | undefined, id: string) => (at ? new Date(at.getTime() - offset(id)).toISOString() : null);
  return t.any(
    `SELECT s.id, s.subject, s.created_at, s.data
       FROM $1:name.$2:name s JOIN unnest($4::text[], $5::timestamptz[], $6::text[]) AS w(subject, since, until) ON s.subject = w.subject
      WHERE s.type = $3 AND (w.since IS NULL OR s.created_at >= w.since) AND (w.until IS NULL OR (s.data ->> 'from') < w.until)
      ORDER BY s.subject, s.created_at, s.id`,
    [names.schema, names.events, STATEMENT_TYPE, ids, ids.map((id) => onWriterClock(since, id)), ids.map((id) => onWriterClock(until, id))],
  );
}

/** Whether a writer belongs in a report of the period: it stated in it, or its silence reaches into it. */
function overlaps(w: WriterCompleteness, { since, until }: CompletenessOptions): boolean {
  if (!since && !until) return true;
  if (until && Date.parse(w.started_at) >= until.getTime()) return false;
  // A writer with no statement in the period was not running in it, unless it is running now.
  return w.state === 'stating' && (!until || until.getTime() > Date.now() - (w.interval_ms ?? 0) * SILENT_AFTER_INTERVALS);
}

/**
 * Whether a silence belongs to the period: from its start until its writer's next statement was due
 * after the server last heard from it (a writer killed then, the usual case, could lose no record
 * later). A scheduled `verify --complete --since 25h` so names each silence in the run after it began,
 * then no more.
 */
function silenceOverlaps(w: WriterCompleteness, { since, until }: CompletenessOptions): boolean {
  if (!since && !until) return true;
  const interval = w.interval_ms ?? 0;
  return (
    (!until || Date.parse(w.silent_since!) < until.getTime()) &&
    (!since || Date.parse(w.last_heard ?? w.silent_since!) + interval >= since.getTime())
  );
}

/**
 * How a writer stands. Silent: no final statement, and the server has heard nothing from it for two
 * intervals and a second: the chain table's `updated_at` of its record chain and of the event chain of
 * its last statement, which the chain table's trigger sets to the server's `now()` when a head moves (and
 * at registration). The writer's own clock (its statements' times) decides nothing here: one running
 * behind would look silent while it states, one running ahead would never look silent.
 */
function stateOf(interval: number | null, last: Record<string, unknown> | null, lastHeard: number, now: Date): WriterCompleteness['state'] {
  if (interval === null) return 'unstated';
  if (last?.final === 'close') return 'closed';
  if (last?.final === 'exit') return 'exited';
  return now.getTime() - lastHeard > SILENT_AFTER_INTERVALS * interval + 1000 ? 'silent' : 'stating';
}

/** Sums a writer's statements and checks each one: signed by the chain's key, numbered in order, each period starting where the last ended. */
function summarise(
  chain: Record<string, unknown>,
  interval: number | null,
  list: Record<string, unknown>[],
  problems: StatementProblem[],
  fromStart: boolean,
): WriterCompleteness {
  const chainId = chain.chain_id as string;
  const w: WriterCompleteness = {
    chain_id: chainId,
    host: chain.host as string,
    pid: Number(chain.pid),
    service: (chain.service as string | null) ?? null,
    started_at: iso(chain.started_at)!,
    interval_ms: interval,
    state: 'stating',
    statements: 0,
    from: null,
    to: null,
    captured: 0,
    written: 0,
    spilled: 0,
    replayed: 0,
    dropped: 0,
    dropped_by_reason: {},
    lost: [],
    unreadable_journal_bytes: 0,
    silent_since: null,
    last_heard: null,
    last_record_at: null,
    statement_due: null,
  };
  let previous: Record<string, unknown> | null = null;
  let intervalNamed = false;
  for (const s of list) {
    const data = (s.data ?? {}) as Record<string, unknown>;
    const problem = (kind: StatementProblem['kind'], message: string) =>
      problems.push({
        chain_id: chainId,
        event_id: s.id as string,
        kind,
        message: `completeness statement ${s.id} of chain ${chainId}: ${message}`,
      });
    if (data.chain_id !== chainId || !statementSignatureValid((chain.public_key as string | null) ?? null, data)) {
      problem(
        'forged',
        "it is not signed by the key the chain registered: it was written or changed by someone other than the chain's writer",
      );
      continue;
    }
    if (data.interval_ms !== interval && !intervalNamed) {
      intervalNamed = true;
      problem(
        'forged',
        `it says its writer states every ${data.interval_ms} ms, but the chain's registration says ${interval ?? 'nothing'}: the registration was changed`,
      );
    }
    if (!previous && fromStart && data.n !== 1)
      problem('missing', `it is number ${data.n}, but the chain's statements start at 1: the ones before it were deleted`);
    if (previous) {
      if (num(data.n) !== num(previous.n) + 1)
        problem('missing', `it is number ${data.n} but follows number ${previous.n}: statements between them were deleted`);
      else if (data.from !== previous.to)
        problem('missing', `its period starts at ${data.from}, not where the one before ended (${previous.to})`);
    }
    previous = data;
    w.statements++;
    w.from ??= String(data.from);
    w.to = String(data.to);
    for (const k of COUNTS) w[k] += num(data[k]);
    for (const [reason, n] of Object.entries((data.dropped_by_reason ?? {}) as Record<string, unknown>))
      w.dropped_by_reason[reason as LossReason] = (w.dropped_by_reason[reason as LossReason] ?? 0) + num(n);
    for (const lost of Array.isArray(data.lost) ? (data.lost as LostRecord[]) : []) if (w.lost.length < MAX_LOST_SHOWN) w.lost.push(lost);
    w.unreadable_journal_bytes += num(data.unreadable_journal_bytes);
  }
  return w;
}
