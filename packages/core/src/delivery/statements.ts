import type { ChainWriter } from '../chain/chain-writer';
import { STATEMENT_TYPE, statementMessage, type CompletenessStatement } from '../chain/statement';
import type { StoredEvent } from '../events/event';
import { describe } from '../errors';
import { uuidv7 } from '../ids';
import type { DeliveryCounts, Losses, Reporter } from './reporter';

/** What the statements of one writer work with; the logger makes them once. */
export interface StatementParts {
  intervalMs: number;
  reporter: Reporter;
  /** The writer's record chain: what is stated about, and whose key signs. */
  records: ChainWriter;
  /** Records held in memory, and bytes in this process's spill journal, now. */
  held(): { queue_rows: number; journal_bytes: number };
  /** Stores an event row in the writer's event chain; a row whose id is stored already counts as stored. */
  store(row: StoredEvent): Promise<void>;
  /** Whether an event with this id is stored (a write whose answer was lost may have stored it). */
  isStored(id: string): Promise<boolean>;
}

/** A statement made and not yet known stored, with what it was made from (to make it again, longer). */
interface Pending {
  row: StoredEvent;
  n: number;
  from: Date;
  stated: DeliveryCounts;
  losses: Losses;
}

const COUNTED = ['captured', 'written', 'retried', 'spilled', 'replayed', 'dropped'] as const;

/**
 * A writer's completeness statements: every `intervalMs`, and at close or exit, what happened to the
 * records it captured since its previous statement (`chain/statement.ts`), stored in its event chain.
 * A statement that could not be stored is made again at the next attempt, over the longer period (same
 * number, same start, its losses kept), unless the failed write did store it after all: so periods
 * neither overlap nor leave holes, and a statement's end is about when it was stored (a period check
 * reads it by that). Nothing is stated before the record chain is registered: the registration is where
 * the first period starts.
 */
export class Statements {
  private n = 0;
  private from: Date;
  /** The counts as of the last statement made. */
  private stated: DeliveryCounts;
  private pending: Pending | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private failing = false;
  private ended = false;

  constructor(private readonly parts: StatementParts) {
    this.from = parts.records.chain.registration.started_at;
    this.stated = { captured: 0, written: 0, retried: 0, spilled: 0, replayed: 0, dropped: 0 };
  }

  /** States every interval from now on (the timer never keeps the process alive). */
  start(): void {
    if (this.timer || this.ended) return;
    this.timer = setInterval(() => void this.state(false), this.parts.intervalMs).unref();
  }

  /**
   * States now: the pending statement first, then a new one (`final` at close or exit: the last).
   * Never rejects; a statement that cannot be stored is reported and tried again next time.
   */
  state(final: false | 'close' | 'exit'): Promise<void> {
    if (final) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    }
    const previous = this.running ?? Promise.resolve();
    const run = previous.then(() => this.stateNow(final));
    this.running = run.finally(() => {
      if (this.running === run) this.running = null;
    });
    return run;
  }

  private async stateNow(final: false | 'close' | 'exit'): Promise<void> {
    const { records, reporter } = this.parts;
    if (this.ended || !records.isRegistered) return;
    try {
      if (this.pending) {
        // The write failed; if it stored the statement all the same, that one stands; else make it again.
        if (await this.parts.isStored(this.pending.row.id)) this.pending = null;
        else this.unmake(this.pending);
      }
      this.pending = this.make(final);
      await this.parts.store(this.pending.row);
      this.pending = null;
      if (final) this.ended = true;
      this.failing = false;
    } catch (err) {
      if (!this.failing)
        reporter.report(
          'E_STATEMENT',
          `a completeness statement of chain ${records.chain.id} could not be stored; ${final ? 'it was the final one: the log will show this writer as silent from its last stored statement' : 'it is tried again at the next interval'}: ${describe(err)}`,
          err,
        );
      this.failing = true;
    }
  }

  /** Goes back to before `pending` was made: its number, its start, its counts and its losses come again. */
  private unmake(pending: Pending): void {
    this.n = pending.n - 1;
    this.from = pending.from;
    this.stated = pending.stated;
    this.parts.reporter.giveBackLosses(pending.losses);
    this.pending = null;
  }

  /** The next statement: the counts since the previous one, the losses it names, the chain's stored head, signed. */
  private make(final: false | 'close' | 'exit'): Pending {
    const { records, reporter, intervalMs } = this.parts;
    const now = reporter.counts;
    const losses = reporter.takeLosses();
    const before = { n: this.n, from: this.from, stated: this.stated };
    const to = new Date(Math.max(Date.now(), this.from.getTime()));
    const counts = Object.fromEntries(COUNTED.map((k) => [k, now[k] - this.stated[k]])) as Record<(typeof COUNTED)[number], number>;
    const statement: Omit<CompletenessStatement, 'signature'> = {
      v: 1,
      chain_id: records.chain.id,
      n: ++this.n,
      from: this.from.toISOString(),
      to: to.toISOString(),
      interval_ms: intervalMs,
      final,
      ...counts,
      dropped_by_reason: losses.byReason,
      lost: losses.named,
      lost_unnamed: losses.unnamed,
      unreadable_journal_bytes: losses.unreadableJournalBytes,
      ...this.parts.held(),
      through_seq: records.stored.seq,
      through_hash: records.stored.hash,
    };
    this.stated = { ...now };
    this.from = to;
    const data: CompletenessStatement = { ...statement, signature: records.chain.sign(statementMessage(statement)) };
    const row: StoredEvent = {
      id: uuidv7(),
      created_at: to,
      subject: records.chain.id,
      type: STATEMENT_TYPE,
      actor: null,
      data,
      redactions: [],
    };
    return { row, n: before.n + 1, from: before.from, stated: before.stated, losses };
  }
}
