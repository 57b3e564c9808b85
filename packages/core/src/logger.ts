import type { IncomingMessage } from 'node:http';
import type { Exchange, ExchangeSink, RequestTarget } from './capture/exchange';
import { Chain } from './chain/chain';
import { canonicalJson } from './chain/canonical';
import { ChainWriter } from './chain/chain-writer';
import { Backlog } from './delivery/backlog';
import { Delivery } from './delivery/delivery';
import { flushBeforeExit } from './delivery/exit-flush';
import { type DeliveryCounts, Reporter } from './delivery/reporter';
import { Spill } from './delivery/spill';
import { Statements } from './delivery/statements';
import { lostExchange, lostRecord } from './record/lost';
import { describe, InferlogError } from './errors';
import { differingField, EventConflictError, eventRow, subjectAsRequestId, type OversightEvent, type StoredEvent } from './events/event';
import { resolveOptions, type InferenceLogOptions, type ResolvedOptions } from './options';
import { recordOf } from './record/build';
import type { InferenceRecord } from './record/record';
import type { CompiledRoute } from './routes';
import { openPostgresSink } from './sink/connect';
import type { RecordSink } from './sink/postgres-sink';

/** On a request: the logger (or loggers) that already decided it, so that meeting one again decides nothing. */
const DECIDED = Symbol.for('inferlog.decided');

/** Counters and gauges of one logger, from `stats()`. */
export interface InferenceLogStats extends DeliveryCounts {
  /** Records waiting in memory. */
  queueRows: number;
  /** Bytes of captured bodies waiting in memory. */
  queueBytes: number;
  /** Bytes in this process's spill journal. */
  journalBytes: number;
  /** Whether the store is connected and migrated. */
  storeReady: boolean;
  /** The last failure's message, or null. */
  lastError: string | null;
}

/** Options of `close()`. */
export interface CloseOptions {
  /** How long to keep trying to write what is queued and journaled, in ms. Default 10 000. */
  timeoutMs?: number;
}

/**
 * The framework-independent logger the adapters wrap. It wires the stages: route selection on the
 * request path; the backlog (bounded, with the overflow policy); record building; the delivery loop
 * (batches, chain, writes, retries, spill and replay); oversight events in a chain of their own.
 */
export class InferenceLogger implements ExchangeSink<CompiledRoute> {
  readonly options: ResolvedOptions;
  private readonly reporter: Reporter;
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
  /** Whether finished exchanges still become records: until close() stops waiting for the requests in flight. */
  private accepting = true;
  /**
   * Requests admitted whose exchange has not finished yet: a count (each exchange carries its flag), not a
   * set, so the logger holds no request; those still running at the close() deadline are counted lost, unnamed.
   */
  private inFlight = 0;
  /** Resolves close()'s wait once no request is in flight. */
  private settled: (() => void) | null = null;
  private exitStated = false;
  private closing: Promise<void> | null = null;

  /** close() was called (it is under way or done). */
  private get closed(): boolean {
    return this.closing !== null;
  }
  /** close() released the store: nothing opens it again. */
  private released = false;
  private readonly forgetAtExit: () => void;

  constructor(
    options: InferenceLogOptions | ResolvedOptions = {},
    private readonly openSink = openPostgresSink,
  ) {
    const o = 'selector' in options ? (options as ResolvedOptions) : resolveOptions(options as InferenceLogOptions);
    this.options = o;
    this.reporter = new Reporter(o);
    const names = { exchange: lostExchange, record: lostRecord };
    this.backlog = new Backlog(o.maxQueueBytes, o.overflow, this.reporter, names);
    this.records = new ChainWriter(new Chain('record', o.service, o.serviceVersion, o.host, o.statementIntervalMs));
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
    this.forgetAtExit = flushBeforeExit(this);
    this.open().catch(() => {});
  }

  /** This writer's hash chain. */
  get chain(): Chain {
    return this.records.chain;
  }

  get maxBodyBytes(): number {
    return this.options.maxBodyBytes;
  }

  get requestIdHeader(): string | null {
    return this.options.requestIdHeader;
  }

  get bodyDigest(): ResolvedOptions['bodyDigest'] {
    return this.options.bodyDigest;
  }

  /** Whether anything waits in memory or in the journal. */
  get hasWork(): boolean {
    return this.delivery.hasWork;
  }

  /**
   * The hot path's one call for every request: the route that logs it, or undefined. The request is
   * matched by its target where the middleware runs (`target.url`, default `req.url`: routers and mounts
   * cut their prefix off it) and by the target the client sent (`target.originalUrl`, default Express's
   * `req.originalUrl`); see `RouteSelector`. A request is decided once per logger: met again (the same
   * middleware on the app and in a router), it is not selected a second time, so it has one row and one
   * sample draw.
   */
  select(req: IncomingMessage, target?: RequestTarget): CompiledRoute | undefined {
    const decided = (req as unknown as Record<symbol, unknown>)[DECIDED];
    if (decided !== undefined && (decided === this || (Array.isArray(decided) && decided.includes(this)))) return undefined;
    const url = target?.url ?? req.url ?? '/';
    const originalUrl = target?.originalUrl ?? (req as { originalUrl?: string }).originalUrl;
    const route = this.options.selector.decide(req.method ?? 'GET', url, req.headers, originalUrl);
    if (route === undefined) return undefined;
    (req as unknown as Record<symbol, unknown>)[DECIDED] =
      decided === undefined ? this : [...(Array.isArray(decided) ? decided : [decided]), this];
    return route ?? undefined;
  }

  /**
   * Whether a selected request may go on, by the overflow policy: true (log it), false (the log can
   * take nothing more: answer 503 unserved), or, under `wait` with the queue full, a promise of either
   * once the queue has room or `overflowWaitMs` has passed. The adapters' one call for it.
   */
  admit(): boolean | Promise<boolean> {
    const { overflow, maxBodyBytes, overflowWaitMs } = this.options;
    // A closed log takes no record, whatever the policy: an inference served now could be in no completeness
    // statement (the last one is written at close), so it is answered 503 unserved rather than missing unstated.
    if (this.closed) return false;
    // fail-closed: room for the largest record one more exchange can make (both bodies at the cap).
    if (overflow === 'fail-closed') return this.backlog.hasRoomFor(2 * maxBodyBytes + 1024);
    if (overflow !== 'wait' || this.backlog.hasRoom) return true;
    return this.backlog.waitForRoom(overflowWaitMs);
  }

  /** Why `admit()` said no, for the 503 body. */
  refusalReason(): string {
    const { overflow, overflowWaitMs } = this.options;
    if (this.closed)
      return 'the inference log is closed (close() was called): the inference was not served, so it is not missing from the log';
    const policy = overflow === 'wait' ? `overflow: wait, no room within ${overflowWaitMs} ms` : `overflow: ${overflow}`;
    return `the inference log cannot take more records (${this.delivery.backlogCause()}; ${policy})`;
  }

  /** An admitted request's capture began: `close()` waits for it to finish (until its deadline). */
  begin(exchange: Exchange<CompiledRoute>): void {
    if (!this.accepting) return;
    exchange.inFlight = true;
    this.inFlight++;
  }

  /** Takes a finished exchange. Never throws; a full queue applies the overflow policy, counted and reported. */
  enqueue(exchange: Exchange<CompiledRoute>): void {
    const begun = exchange.inFlight;
    if (begun) {
      exchange.inFlight = false;
      if (--this.inFlight === 0) this.settled?.();
    }
    if (!this.accepting) {
      // Begun before close() stopped waiting: counted lost at its deadline (close_deadline); any other is lost now, after the final statement.
      if (!begun)
        this.reporter.drop(1, 'after_close', 'E_CLOSED', 'a request finished after close() had ended; its record was not written', [
          lostExchange(exchange, 'after_close'),
        ]);
      return;
    }
    if (!this.backlog.add(exchange, () => this.delivery.backlogCause())) return;
    this.reporter.counts.captured++;
    this.delivery.added();
  }

  /** Reports a failure inside the middleware's capture; the request itself goes on unlogged. */
  captureFailed(err: unknown): void {
    this.reporter.drop(1, 'capture_failed', 'E_CAPTURE', `capturing a request failed; it was served but not logged: ${describe(err)}`);
  }

  /** Writes everything queued and journaled now. Rejects when a write fails (the records stay queued or journaled and are retried). */
  flush(): Promise<void> {
    return this.delivery.flush();
  }

  /**
   * Stops capturing, writes what is queued and journaled (retrying until `timeoutMs`), and releases the
   * connection. What is still in memory at the deadline goes to the journal for the next process; only
   * when that is impossible are records dropped, and then close() rejects after releasing everything.
   * Called again, it returns the first call's promise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    // Set before any of it runs: `closed` reads it.
    this.closing ??= Promise.resolve().then(() => this.closeOnce(options));
    return this.closing;
  }

  private async closeOnce(options: CloseOptions): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    // A request still waiting for room would be served after close() and its record lost: refuse it.
    this.backlog.refuseWaiters();
    this.forgetAtExit();
    const unfinished = await this.requestsInFlight(deadline);
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
    if (dropped ?? unfinished) throw dropped ?? unfinished;
  }

  /**
   * Waits until the requests admitted before close() have finished (their records join what close()
   * writes), or the deadline passes: those still running then are stated lost (`close_deadline`), since
   * the final completeness statement is written before they could end.
   */
  private async requestsInFlight(deadline: number): Promise<InferlogError | null> {
    if (this.inFlight > 0) {
      const settled = new Promise<void>((resolve) => {
        this.settled = resolve;
      });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
      await Promise.race([settled, late]);
      clearTimeout(timer);
      this.settled = null;
    }
    this.accepting = false;
    const unfinished = this.inFlight;
    if (unfinished === 0) return null;
    return this.reporter.drop(
      unfinished,
      'close_deadline',
      'E_CLOSED',
      `${unfinished} requests were still being answered at the close() deadline; their records were not written`,
    );
  }

  /**
   * As the process exits without `close()` (the event loop emptied): writes what is held, then the
   * final completeness statement, so that the log shows this writer ended rather than fell silent.
   */
  async beforeExit(): Promise<void> {
    if (this.closed || this.exitStated) return;
    if (this.hasWork) await this.flush().catch(() => {});
    // Once: 'beforeExit' comes again after this work, and a statement that cannot be stored must not keep the process alive.
    if (this.hasWork || this.exitStated) return;
    this.exitStated = true;
    await this.statements.state('exit');
  }

  /**
   * Records an oversight event about an inference (`subject`: its `id` or `request_id`): a human review,
   * an override, a second verifier's decision, feedback, a ground-truth label, an incident flag. Stored
   * at once in `<table>_event`, chained like records; resolves with the stored event. Rejects with an
   * `InferlogError` (`E_EVENT`) when the event is not valid or the database cannot take it now; the event
   * may still have been stored if only the answer was lost: send it again with the same `id`.
   */
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
    if (this.closed) throw new InferlogError('E_CLOSED', 'the logger is closed: the oversight event was not stored');
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

  /** Resolves once the store is connected and migrated; rejects with the start-up error if that failed. */
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
          if (!this.closed) this.statements.start();
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
