import type { Exchange } from '../capture/exchange';
import { Chain } from '../chain/chain';
import { canonicalJson } from '../chain/canonical';
import { ChainWriter } from '../chain/chain-writer';
import type { LossReason, LostRecord } from '../chain/statement';
import { Backlog } from '../delivery/backlog';
import { Delivery } from '../delivery/delivery';
import { Reporter } from '../delivery/reporter';
import { Spill } from '../delivery/spill';
import { Statements } from '../delivery/statements';
import { describe, InferlogError, type InferlogErrorCode } from '../errors';
import { differingField, EventConflictError, eventRow, subjectAsRequestId, type OversightEvent, type StoredEvent } from '../events/event';
import type { ResolvedOptions } from '../options';
import { recordOf } from '../record/build';
import { lostExchange, lostRecord } from '../record/lost';
import type { InferenceRecord } from '../record/record';
import type { CompiledRoute } from '../routes';
import { openPostgresSink } from '../sink/connect';
import type { RecordSink } from '../sink/postgres-sink';
import type { InferenceLogStats, RecordWriter } from './record-writer';

/**
 * The writer in the thread it is made in: the backlog (bounded, with the overflow policy); record
 * building; the delivery loop (batches, chain, writes, retries, spill and replay); the completeness
 * statements; oversight events in a chain of their own. The worker thread runs one of these.
 */
export class LocalWriter implements RecordWriter {
  readonly reporter: Reporter;
  private readonly backlog: Backlog;
  private readonly spill: Spill | null;
  private readonly records: ChainWriter;
  private readonly delivery: Delivery;
  private readonly statements: Statements;
  /** The chain of this writer's oversight events (and its completeness statements), made at the first one. */
  private eventChain: ChainWriter | null = null;
  /** Events are stored one after another (each sealed into the event chain right before its write). */
  private events: Promise<unknown> = Promise.resolve();
  private sink: RecordSink | null = null;
  private opening: Promise<RecordSink> | null = null;
  private exitStated = false;
  /** close() began: no statement timer starts any more. */
  private closing = false;
  /** close() released the store: nothing opens it again. */
  private released = false;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly openSink = openPostgresSink,
    chainId?: string,
  ) {
    const o = options;
    this.reporter = new Reporter(o);
    const names = { exchange: lostExchange, record: lostRecord };
    this.backlog = new Backlog(o.maxQueueBytes, o.overflow, this.reporter, names);
    this.records = new ChainWriter(new Chain('record', o.service, o.serviceVersion, o.host, o.statementIntervalMs, chainId));
    this.spill = o.spillDir
      ? new Spill(o.spillDir, `${o.schema}.${o.table}`, o.maxSpillBytes, o.spillStaleMs, o.writeAheadSyncMs, (err, problem) =>
          this.reporter.report('E_SPILL', `${problem}: ${describe(err)}`, err),
        )
      : null;
    this.delivery = new Delivery({
      options: o,
      backlog: this.backlog,
      reporter: this.reporter,
      spill: this.spill,
      records: this.records,
      open: () => this.open(),
      build: (exchange) => this.toRecord(exchange),
      names,
    });
    this.statements = new Statements({
      intervalMs: o.statementIntervalMs,
      reporter: this.reporter,
      records: this.records,
      held: () => ({ queue_rows: this.backlog.rows, journal_bytes: this.spill?.bytes ?? 0 }),
      store: async (row) => {
        await this.appendEvent(row, true);
      },
      isStored: async (id) => (await (await this.open()).storedEvent(id)) !== null,
    });
    this.open().catch(() => {});
  }

  /** This writer's hash chain. */
  get chain(): Chain {
    return this.records.chain;
  }

  get chainId(): string {
    return this.records.chain.id;
  }

  get hasWork(): boolean {
    return this.delivery.hasWork;
  }

  /**
   * Records held in memory only, in no journal: all but the batches in the write-ahead journal (a batch
   * being appended, or whose append failed, counts: it would be lost).
   */
  get volatileRows(): number {
    return this.backlog.rows - this.backlog.journaledRows;
  }

  /** The backlog overflowed and nothing has been written or spilled since. */
  get overflowing(): boolean {
    return this.backlog.overflowing;
  }

  hasRoom(): boolean {
    return this.backlog.hasRoom;
  }

  hasRoomFor(bytes: number): boolean {
    return this.backlog.hasRoomFor(bytes);
  }

  waitForRoom(ms: number): Promise<boolean> {
    return this.backlog.waitForRoom(ms);
  }

  refuseWaiters(): void {
    this.backlog.refuseWaiters();
  }

  backlogCause(): string {
    return this.delivery.backlogCause();
  }

  take(exchange: Exchange<CompiledRoute>): void {
    if (!this.backlog.add(exchange, () => this.delivery.backlogCause())) return;
    this.reporter.counts.captured++;
    this.delivery.added();
  }

  drop(count: number, reason: LossReason, code: InferlogErrorCode, message: string, lost?: readonly LostRecord[]): InferlogError {
    return this.reporter.drop(count, reason, code, message, lost);
  }

  flush(): Promise<void> {
    return this.delivery.flush();
  }

  async close(deadline: number, unfinished: number): Promise<void> {
    this.closing = true;
    const late =
      unfinished > 0
        ? this.reporter.drop(
            unfinished,
            'close_deadline',
            'E_CLOSED',
            `${unfinished} requests were still being answered at the close() deadline; their records were not written`,
          )
        : null;
    await this.delivery.finish(deadline);
    await this.events;
    const lost = await this.delivery.spillRest();
    const dropped =
      lost.length > 0
        ? this.reporter.drop(
            lost.length,
            'close_deadline',
            'E_CLOSED',
            `${lost.length} records could not be written or spilled before the close() deadline: ${this.reporter.lastError}`,
            lost,
          )
        : null;
    // A store still opening registers the chain first: the final statement needs it.
    const sink = this.sink ?? (await this.opening?.catch(() => null));
    await this.statements.state('close');
    this.sink = null;
    this.released = true;
    await sink?.close().catch((err) => this.reporter.report('E_CLOSED', `closing the database connection failed: ${describe(err)}`, err));
    await this.spill?.close().catch((err) => this.reporter.report('E_SPILL', `closing the spill journal failed: ${describe(err)}`, err));
    if (dropped ?? late) throw dropped ?? late;
  }

  async beforeExit(): Promise<void> {
    if (this.closing || this.exitStated) return;
    if (this.hasWork) await this.flush().catch(() => {});
    // Once: 'beforeExit' comes again after this work, and a statement that cannot be stored must not keep the process alive.
    if (this.hasWork || this.exitStated) return;
    this.exitStated = true;
    await this.statements.state('exit');
  }

  event(subject: string, event: OversightEvent): Promise<StoredEvent> {
    let row: StoredEvent;
    try {
      row = eventRow(subject, event, this.options.redactor);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.storeEvent(row, event.id !== undefined);
  }

  private async storeEvent(row: StoredEvent, idGiven: boolean): Promise<StoredEvent> {
    if (this.closing) throw new InferlogError('E_CLOSED', 'the logger is closed: the oversight event was not stored');
    try {
      return await this.appendEvent(row, idGiven);
    } catch (err) {
      if (err instanceof EventConflictError) throw err;
      throw this.reporter.report(
        'E_EVENT',
        `the oversight event ${row.id} (${row.type} on ${row.subject}) could not be stored; send it again with the same id: ${describe(err)}`,
        err,
      );
    }
  }

  /** Stores an event row in this writer's event chain, one after another; one stored under its id already is the stored one. */
  private appendEvent(row: StoredEvent, idGiven: boolean): Promise<StoredEvent> {
    const stored = this.events.then(() => this.writeEvent(row, idGiven));
    this.events = stored.catch(() => {});
    return stored;
  }

  private async writeEvent(row: StoredEvent, idGiven: boolean): Promise<StoredEvent> {
    const o = this.options;
    this.eventChain ??= new ChainWriter(new Chain('event', o.service, o.serviceVersion, o.host));
    const chain = this.eventChain;
    const sink = await this.open();
    await chain.ready(sink);
    const asRequestId = subjectAsRequestId(row);
    if (asRequestId !== undefined && (await sink.existing([row.subject])).size === 0) row.subject = asRequestId;
    const already = idGiven ? await sink.storedEvent(row.id) : null;
    if (already) {
      // The same event sent again (its answer was lost): the stored one. Another event under its id: refused.
      const field = differingField(row, already, (a, b) => canonicalJson(a) === canonicalJson(b));
      if (field) throw new EventConflictError(row.id, field);
      return already;
    }
    await chain.sealAndWrite([row], ([sealed]) => sink.insertEvent(sealed!));
    return row;
  }

  async ready(): Promise<void> {
    await this.open();
  }

  stats(): InferenceLogStats {
    return {
      ...this.reporter.counts,
      queueRows: this.backlog.rows,
      queueBytes: this.backlog.bytes,
      journalBytes: this.spill?.bytes ?? 0,
      storeReady: this.sink !== null,
      lastError: this.reporter.lastError,
    };
  }

  /** The store, opened once (and again after a failed start), with this writer's record chain registered. */
  private open(): Promise<RecordSink> {
    if (this.sink) return Promise.resolve(this.sink);
    if (this.released) return Promise.reject(new InferlogError('E_CLOSED', 'the logger is closed: its database connection was released'));
    this.opening ??= this.openSink(this.options)
      .then(async (sink) => {
        try {
          await this.records.register(sink);
          if (!this.closing) this.statements.start();
        } catch (err) {
          await sink.close().catch(() => {});
          throw err;
        }
        return sink;
      })
      .then(
        (sink) => {
          this.opening = null;
          this.sink = sink;
          return sink;
        },
        (err: unknown) => {
          this.opening = null;
          throw this.reporter.report('E_STORE_START', `cannot open the log database (records wait and are retried): ${describe(err)}`, err);
        },
      );
    return this.opening;
  }

  private toRecord(exchange: Exchange<CompiledRoute>): InferenceRecord {
    return recordOf(exchange, this.options, (message) => this.reporter.report('E_RECORD', message));
  }
}
