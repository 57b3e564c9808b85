import type { IncomingMessage } from 'node:http';
import type { Exchange, ExchangeSink, RequestTarget } from './capture/exchange';
import { flushBeforeExit } from './delivery/exit-flush';
import { lostExchange } from './record/lost';
import { describe, InferlogError } from './errors';
import type { OversightEvent, StoredEvent } from './events/event';
import { resolveOptions, type InferenceLogOptions, type ResolvedOptions } from './options';
import type { CompiledRoute } from './routes';
import type { openPostgresSink } from './sink/connect';
import { LocalWriter } from './writer/local-writer';
import type { InferenceLogStats, RecordWriter } from './writer/record-writer';
import { ThreadWriter } from './writer/thread-writer';
import { threadOptions } from './writer/thread-options';

export type { InferenceLogStats } from './writer/record-writer';

/** On a request: the logger (or loggers) that already decided it, so that meeting one again decides nothing. */
const DECIDED = Symbol.for('inferlog.decided');

/** Options of `close()`. */
export interface CloseOptions {
  /** How long to keep trying to write what is queued and journaled, in ms. Default 10 000. */
  timeoutMs?: number;
}

/**
 * The framework-independent logger the adapters wrap: route selection and admission on the request
 * path, the requests in flight, and close(). Everything after capture is its writer's (`RecordWriter`):
 * in a worker thread where the options can go there (`threadOptions`), else in this thread.
 */
export class InferenceLogger implements ExchangeSink<CompiledRoute> {
  readonly options: ResolvedOptions;
  private readonly writer: RecordWriter;
  /** Whether finished exchanges still become records: until close() stops waiting for the requests in flight. */
  private accepting = true;
  /**
   * Requests admitted whose exchange has not finished yet: a count (each exchange carries its flag), not a
   * set, so the logger holds no request; those still running at the close() deadline are counted lost, unnamed.
   */
  private inFlight = 0;
  /** Resolves close()'s wait once no request is in flight. */
  private settled: (() => void) | null = null;
  private closing: Promise<void> | null = null;

  /** close() was called (it is under way or done). */
  private get closed(): boolean {
    return this.closing !== null;
  }
  private readonly forgetAtExit: () => void;

  /**
   * `openSink` replaces the PostgreSQL store (tests); a logger given one writes in this thread.
   */
  constructor(options: InferenceLogOptions | ResolvedOptions = {}, openSink?: typeof openPostgresSink) {
    const o = 'selector' in options ? (options as ResolvedOptions) : resolveOptions(options as InferenceLogOptions);
    this.options = o;
    const threaded = openSink || 'selector' in options ? null : threadOptions(options as InferenceLogOptions, o);
    this.writer = threaded ? new ThreadWriter(o, threaded) : new LocalWriter(o, openSink);
    this.forgetAtExit = flushBeforeExit(this);
  }

  /** This writer's hash chain (its id names its rows' `chain_id`). */
  get chain(): { readonly id: string } {
    return { id: this.writer.chainId };
  }

  /** Whether the records are built and written in a worker thread (else in this one). */
  get threaded(): boolean {
    return this.writer instanceof ThreadWriter;
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
    return this.writer.hasWork;
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
    if (overflow === 'fail-closed') return this.writer.hasRoomFor(2 * maxBodyBytes + 1024);
    if (overflow !== 'wait' || this.writer.hasRoom()) return true;
    return this.writer.waitForRoom(overflowWaitMs);
  }

  /** Why `admit()` said no, for the 503 body. */
  refusalReason(): string {
    const { overflow, overflowWaitMs } = this.options;
    if (this.closed)
      return 'the inference log is closed (close() was called): the inference was not served, so it is not missing from the log';
    const policy = overflow === 'wait' ? `overflow: wait, no room within ${overflowWaitMs} ms` : `overflow: ${overflow}`;
    return `the inference log cannot take more records (${this.writer.backlogCause()}; ${policy})`;
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
        this.writer.drop(1, 'after_close', 'E_CLOSED', 'a request finished after close() had ended; its record was not written', [
          lostExchange(exchange, 'after_close'),
        ]);
      return;
    }
    this.writer.take(exchange);
  }

  /** Reports a failure inside the middleware's capture; the request itself goes on unlogged. */
  captureFailed(err: unknown): void {
    this.writer.drop(1, 'capture_failed', 'E_CAPTURE', `capturing a request failed; it was served but not logged: ${describe(err)}`);
  }

  /** Writes everything queued and journaled now. Rejects when a write fails (the records stay queued or journaled and are retried). */
  flush(): Promise<void> {
    return this.writer.flush();
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
    this.writer.refuseWaiters();
    this.forgetAtExit();
    const unfinished = await this.requestsInFlight(deadline);
    await this.writer.close(deadline, unfinished);
  }

  /**
   * Waits until the requests admitted before close() have finished (their records join what close()
   * writes), or the deadline passes: those still running then are stated lost (`close_deadline`), since
   * the final completeness statement is written before they could end. Returns how many are still running.
   */
  private async requestsInFlight(deadline: number): Promise<number> {
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
    return this.inFlight;
  }

  /**
   * As the process exits without `close()` (the event loop emptied): writes what is held, then the
   * final completeness statement, so that the log shows this writer ended rather than fell silent.
   */
  async beforeExit(): Promise<void> {
    if (this.closed) return;
    await this.writer.beforeExit();
  }

  /**
   * Records an oversight event about an inference (`subject`: its `id` or `request_id`): a human review,
   * an override, a second verifier's decision, feedback, a ground-truth label, an incident flag. Stored
   * at once in `<table>_event`, chained like records; resolves with the stored event. Rejects with an
   * `InferlogError` (`E_EVENT`) when the event is not valid or the database cannot take it now; the event
   * may still have been stored if only the answer was lost: send it again with the same `id`.
   */
  event(subject: string, event: OversightEvent): Promise<StoredEvent> {
    if (this.closed) return Promise.reject(new InferlogError('E_CLOSED', 'the logger is closed: the oversight event was not stored'));
    return this.writer.event(subject, event);
  }

  /** Resolves once the store is connected and migrated; rejects with the start-up error if that failed. */
  ready(): Promise<void> {
    return this.writer.ready();
  }

  stats(): InferenceLogStats {
    return this.writer.stats();
  }
}
