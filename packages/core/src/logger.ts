import type { IncomingHttpHeaders } from 'node:http';
import type { Exchange, ExchangeSink } from './capture/exchange';
import { Chain } from './chain/chain';
import { canonicalJson } from './chain/canonical';
import { differingField, EventConflictError, eventRow, type OversightEvent, type StoredEvent } from './events/event';
import { Spill } from './delivery/spill';
import { writeIsolatingBadRows } from './delivery/write';
import { describe, InferlogError, type InferlogErrorCode } from './errors';
import { resolveOptions, type InferenceLogOptions, type ResolvedOptions } from './options';
import { buildRecord } from './record/build';
import { fallbackRecord } from './record/fallback';
import type { InferenceRecord } from './record/record';
import type { CompiledRoute } from './routes';
import { openPostgresSink } from './sink/connect';
import { StoredMeanwhileError, type RecordSink } from './sink/postgres-sink';

/** Counters and gauges of one logger, from `stats()`. */
export interface InferenceLogStats {
  /** Exchanges captured and handed to the queue. */
  captured: number;
  /** Records stored in PostgreSQL (replayed ones included). */
  written: number;
  /** Record writes that failed and were tried again (one per record per failed attempt). */
  retried: number;
  /** Records written to the spill journal. */
  spilled: number;
  /** Records written to PostgreSQL from a spill journal (this process's or a crashed one's). */
  replayed: number;
  /** Records lost: the overflow policy dropped them, PostgreSQL refused them even without payload, or the `close()` deadline passed with nowhere to put them. Each is reported to `onError` and `onDrop`. */
  dropped: number;
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

interface Batch {
  records: InferenceRecord[];
  bytes: number;
  /** A write of it was tried before: some of its records may be stored already. */
  attempted?: boolean;
}

const MAX_BACKOFF_MS = 30_000;
const DEFAULT_REPORT_INTERVAL_MS = 60_000;
/** Past this share of `maxQueueBytes` batches go to the journal even while the database answers. */
const SPILL_HIGH_WATER = 0.75;

const liveLoggers = new Set<InferenceLogger>();
let exitHooked = false;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The framework-independent logger: selects routes, queues captured exchanges, and turns them into
 * records and batched writes off the request path; spills to a local journal when PostgreSQL cannot
 * keep up. The adapters are thin wrappers around it.
 */
export class InferenceLogger implements ExchangeSink {
  readonly options: ResolvedOptions;
  private queue: Exchange[] = [];
  private queueBytes = 0;
  /** Records built from a batch whose write failed, written first on the next attempt. */
  private retryBatch: Batch | null = null;
  /** The batch being written or spilled right now. */
  private inFlight: Batch | null = null;
  private counts = { captured: 0, written: 0, retried: 0, spilled: 0, replayed: 0, dropped: 0 };
  private lastError: string | null = null;
  /** The last failure to open the store or write a batch (cleared by a successful write). */
  private lastWriteError: string | null = null;
  /** When writes started failing; null while they succeed. */
  private failingSince: number | null = null;
  private readonly spill: Spill | null;
  private spillError: string | null = null;
  /** The queue overflowed and nothing has been written or spilled since: fail-closed refuses requests. */
  private overflowing = false;
  private sink: RecordSink | null = null;
  /** This writer's hash chain. */
  readonly chain: Chain;
  /** False after a failed write: the chain's head is then read back from the database before the next seal. */
  private chainInSync = true;
  /** The chain of this writer's oversight events, made at the first one. */
  private eventChain: { chain: Chain; registered: boolean; inSync: boolean } | null = null;
  /** Events are stored one after another (each sealed into the event chain right before its write). */
  private events: Promise<unknown> = Promise.resolve();
  private opening: Promise<RecordSink> | null = null;
  private draining: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private backoffUntil = 0;
  private closed = false;
  private readonly reported = new Map<InferlogErrorCode, number>();
  private claimTimer: NodeJS.Timeout | null = null;

  constructor(options: InferenceLogOptions | ResolvedOptions = {}, private readonly openSink = openPostgresSink) {
    this.options = 'selector' in options ? (options as ResolvedOptions) : resolveOptions(options as InferenceLogOptions);
    this.chain = new Chain('record', this.options.service, this.options.serviceVersion, this.options.host);
    this.spill = this.options.spillDir
      ? new Spill(this.options.spillDir, `${this.options.schema}.${this.options.table}`, this.options.maxSpillBytes, this.options.spillStaleMs, (err, path) =>
          this.report('E_SPILL', `cannot keep ${path} marked as in use (another process may take it over and replay it too; replays are idempotent): ${describe(err)}`, err),
        )
      : null;
    liveLoggers.add(this);
    if (!exitHooked) {
      exitHooked = true;
      // Timers are unref'd so a logger never keeps a process alive; when the event loop empties,
      // this writes what is still queued (the write itself keeps the process alive until done).
      process.on('beforeExit', () => {
        for (const logger of liveLoggers) if (logger.hasWork) logger.flush().catch(() => {});
      });
    }
    this.open().catch(() => {});
    if (this.spill) {
      void this.claimOrphans();
      // A process that dies while this one runs leaves a journal that goes stale later: look again now and then.
      this.claimTimer = setInterval(() => void this.claimOrphans(), Math.max(100, Math.floor(this.options.spillStaleMs / 2))).unref();
    }
  }

  private async claimOrphans(): Promise<void> {
    try {
      if ((await this.spill!.claimOrphans()) > 0 && !this.closed) this.schedule(0);
    } catch (err) {
      this.report('E_SPILL', `cannot read the spill directory ${this.options.spillDir}: ${describe(err)}`, err);
    }
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

  /** The hot path's one call for every request: the route that logs it, or undefined. */
  select(method: string, url: string, headers: IncomingHttpHeaders): CompiledRoute | undefined {
    return this.closed ? undefined : this.options.selector.select(method, url, headers);
  }

  /**
   * False when the overflow policy is `fail-closed` and the log can take nothing more (the queue is
   * full; the journal is full, broken or off): the adapters then answer 503 instead of serving.
   */
  accepting(): boolean {
    if (this.options.overflow !== 'fail-closed') return true;
    // Room for the largest record one more exchange can make (both bodies at the cap).
    const reserve = 2 * this.options.maxBodyBytes + 1024;
    return !this.overflowing && this.queueBytes + reserve <= this.options.maxQueueBytes;
  }

  /** Why `accepting()` is false, for the 503 body. */
  refusalReason(): string {
    return `the inference log cannot take more records (${this.backlogCause()})`;
  }

  /** Why records back up: the database's state and the journal's, for overflow messages. */
  private backlogCause(): string {
    return `database: ${this.lastWriteError ?? 'slower than requests arrive'}; spill journal: ${this.spillError ?? (this.spill ? 'full' : 'disabled')}`;
  }

  /** Takes a finished exchange. Never throws; a full queue applies the overflow policy, counted and reported. */
  enqueue(exchange: Exchange): void {
    if (this.closed) {
      this.drop(1, 'E_CLOSED', 'a request finished after close(); its record was not written');
      return;
    }
    const bytes = exchange.heldBytes;
    if (this.queueBytes + bytes > this.options.maxQueueBytes) {
      this.overflowing = true;
      const cause = `the queue is full (maxQueueBytes ${this.options.maxQueueBytes}; ${this.backlogCause()})`;
      if (this.options.overflow !== 'drop-oldest') {
        this.drop(1, 'E_QUEUE_FULL', `${cause}; the newest record was dropped`);
        return;
      }
      let dropped = 0;
      while (this.queue.length > 0 && this.queueBytes + bytes > this.options.maxQueueBytes) {
        this.queueBytes -= this.queue.shift()!.heldBytes;
        dropped++;
      }
      if (dropped > 0) this.drop(dropped, 'E_QUEUE_FULL', `${cause}; the ${dropped} oldest records were dropped`);
    }
    this.queue.push(exchange);
    this.queueBytes += bytes;
    this.counts.captured++;
    if (
      this.queue.length >= this.options.batch.maxRows ||
      this.queueBytes >= this.options.batch.maxBytes ||
      this.queueBytes >= this.options.maxQueueBytes * SPILL_HIGH_WATER
    ) {
      this.schedule(0);
    } else if (!this.timer) {
      this.schedule(this.options.batch.flushIntervalMs);
    }
  }

  /** Reports a failure inside the middleware's capture; the request itself goes on unlogged. */
  captureFailed(err: unknown): void {
    this.report('E_CAPTURE', `capturing a request failed; it was served but not logged: ${describe(err)}`, err);
  }

  /** Writes everything queued and journaled now. Rejects when a write fails (the records stay queued or journaled and are retried). */
  async flush(): Promise<void> {
    this.backoffUntil = 0;
    while (this.hasWork) {
      const before = this.counts.written;
      await this.drain();
      if (this.hasWork && this.counts.written === before) {
        throw new InferlogError('E_WRITE', `${this.pendingRows} records are still queued${this.spill?.pending ? ' (and some journaled)' : ''}: ${this.lastError}`);
      }
    }
  }

  /**
   * Stops capturing, writes what is queued and journaled (retrying until `timeoutMs`), and releases the
   * connection. What is still in memory at the deadline goes to the journal for the next process; only
   * when that is impossible are records dropped, and then close() rejects after releasing everything.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    this.closed = true;
    liveLoggers.delete(this);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.hasWork && Date.now() < deadline) {
      try {
        await this.flush();
      } catch {
        await sleep(Math.min(Math.max(this.backoffUntil - Date.now(), 50), Math.max(deadline - Date.now(), 0)));
      }
    }
    await this.draining;
    await this.events;
    if (this.pendingRows > 0) await this.spillQueue(true);
    const lost = this.pendingRows;
    if (lost > 0) {
      this.queue = [];
      this.retryBatch = null;
      this.queueBytes = 0;
    }
    const sink = this.sink ?? (await this.opening?.catch(() => null));
    this.sink = null;
    await sink?.close().catch((err) => this.report('E_CLOSED', `closing the database connection failed: ${describe(err)}`, err));
    if (this.claimTimer) clearInterval(this.claimTimer);
    await this.spill?.close().catch((err) => this.report('E_SPILL', `closing the spill journal failed: ${describe(err)}`, err));
    if (lost > 0) throw this.drop(lost, 'E_CLOSED', `${lost} records could not be written or spilled before the close() deadline: ${this.lastError}`);
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
    const stored = this.events.then(() => this.storeEvent(row, event.id !== undefined));
    this.events = stored.catch(() => {});
    return stored;
  }

  private async storeEvent(row: StoredEvent, idGiven: boolean): Promise<StoredEvent> {
    if (this.closed) throw new InferlogError('E_CLOSED', 'the logger is closed: the oversight event was not stored');
    this.eventChain ??= { chain: new Chain('event', this.options.service, this.options.serviceVersion, this.options.host), registered: false, inSync: true };
    const state = this.eventChain;
    try {
      const sink = await this.open();
      if (!state.registered) {
        await sink.registerChain(state.chain.registration);
        state.registered = true;
      }
      if (!state.inSync) {
        const head = await sink.chainHead(state.chain.id);
        state.chain.resync(head.seq, head.hash);
        state.inSync = true;
      }
      const already = idGiven ? await sink.storedEvent(row.id) : null;
      if (already) {
        // The same event sent again (its answer was lost): the stored one. Another event under its id: refused.
        const field = differingField(row, already, (a, b) => canonicalJson(a) === canonicalJson(b));
        if (field) throw new EventConflictError(row.id, field);
        return already;
      }
      state.chain.seal([row]);
      await sink.insertEvent(row);
      return row;
    } catch (err) {
      if (err instanceof EventConflictError) throw err;
      state.chain.unseal([row]);
      state.inSync = false;
      throw this.report('E_EVENT', `the oversight event ${row.id} (${row.type} on ${row.subject}) could not be stored; send it again with the same id: ${describe(err)}`, err);
    }
  }

  /** Resolves once the store is connected and migrated; rejects with the start-up error if that failed. */
  async ready(): Promise<void> {
    await this.open();
  }

  stats(): InferenceLogStats {
    return {
      ...this.counts,
      queueRows: this.pendingRows,
      queueBytes: this.queueBytes,
      journalBytes: this.spill?.bytes ?? 0,
      storeReady: this.sink !== null,
      lastError: this.lastError,
    };
  }

  private get pendingRows(): number {
    return this.queue.length + (this.retryBatch?.records.length ?? 0) + (this.inFlight?.records.length ?? 0);
  }

  private get hasWork(): boolean {
    return this.pendingRows > 0 || (this.spill?.pending ?? false);
  }

  private open(): Promise<RecordSink> {
    if (this.sink) return Promise.resolve(this.sink);
    this.opening ??= this.openSink(this.options)
      .then(async (sink) => {
        try {
          await sink.registerChain(this.chain.registration);
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
        throw this.report('E_STORE_START', `cannot open the log database (records wait and are retried): ${describe(err)}`, err);
      },
    );
    return this.opening;
  }

  private schedule(ms: number): void {
    if (this.closed && ms > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain().catch(() => {});
    }, ms);
    this.timer.unref();
  }

  /** Writes (or spills) batches until nothing is left or a write fails (then backs off and schedules a retry). */
  private drain(): Promise<void> {
    this.draining ??= this.drainLoop().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private shouldSpill(): boolean {
    if (!this.spill) return false;
    const failingLong = this.failingSince !== null && Date.now() - this.failingSince >= this.options.spillAfterMs;
    return failingLong || this.queueBytes >= this.options.maxQueueBytes * SPILL_HIGH_WATER;
  }

  private async drainLoop(): Promise<void> {
    while (this.hasWork) {
      if (this.shouldSpill()) await this.spillQueue(false);
      const wait = this.backoffUntil - Date.now();
      if (wait > 0) {
        this.schedule(wait);
        return;
      }
      try {
        const sink = await this.open();
        // Journaled records go first once writes succeed (or when nothing else is left to probe with).
        if (this.spill?.pending && (this.failingSince === null || this.pendingRows === 0)) {
          await this.replay(sink);
          continue;
        }
        const batch = this.retryBatch ?? this.takeBatch();
        this.retryBatch = null;
        this.inFlight = batch;
        await this.write(sink, batch);
        this.inFlight = null;
        this.queueBytes -= batch.bytes;
        this.writeSucceeded();
      } catch (err) {
        if (this.inFlight) {
          this.retryBatch = this.inFlight;
          this.counts.retried += this.inFlight.records.length;
          this.inFlight = null;
        }
        this.writeFailed(err);
        if (this.shouldSpill()) await this.spillQueue(false);
        if (!this.closed) this.schedule(this.backoffUntil - Date.now());
        return;
      }
    }
  }

  /**
   * Seals the batch into this writer's chain and writes it. After a failed write the seals come off
   * (some rows may be stored all the same): the next attempt reads the chain's head back from the
   * database, leaves out the rows found stored, and seals the rest anew, so the chain has no gaps.
   */
  private async write(sink: RecordSink, batch: Batch): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!this.chainInSync) {
          const head = await sink.chainHead(this.chain.id);
          this.chain.resync(head.seq, head.hash);
          this.chainInSync = true;
        }
        if (batch.attempted) {
          const stored = await sink.existing(batch.records.map((r) => r.id));
          if (stored.size > 0) {
            batch.records = batch.records.filter((r) => !stored.has(r.id));
            this.counts.written += stored.size; // stored by an attempt whose answer was lost
          }
        }
        batch.attempted = true;
        this.chain.seal(batch.records);
        await this.writeSealed(sink, batch.records);
        return;
      } catch (err) {
        this.chain.unseal(batch.records);
        this.chainInSync = false;
        // Rows stored meanwhile by another attempt: seal the rest again now rather than after a backoff.
        if (!(err instanceof StoredMeanwhileError) || attempt >= 3) throw err;
      }
    }
  }

  private async writeSealed(sink: RecordSink, records: InferenceRecord[]): Promise<void> {
    const outcome = await writeIsolatingBadRows(sink, records, this.chain);
    this.counts.written += outcome.stored + outcome.stripped;
    if (outcome.stripped > 0) {
      this.report('E_WRITE', `PostgreSQL refused ${outcome.stripped} records; they were stored without their payload (see schema_errors)`);
    }
    if (outcome.lost) this.drop(outcome.lost.count, 'E_WRITE', outcome.lost.reason);
  }

  private async replay(sink: RecordSink): Promise<void> {
    // Journaled records may have been stored before (a crash after a commit): written as a retry.
    const replayed = await this.spill!.replayNext((records) => this.write(sink, { records, bytes: 0, attempted: true }));
    if (!replayed) return;
    this.counts.replayed += replayed.records;
    this.writeSucceeded();
    if (replayed.tornBytes > 0) {
      this.report('E_SPILL', `the spill journal ${replayed.source} ended in ${replayed.tornBytes} bytes that are not a whole entry (a write cut short by a crash); the entries before them were replayed${replayed.keptAt ? `, the bytes kept in ${replayed.keptAt}` : ''}`);
    }
    if (replayed.damagedBytes > 0) {
      this.report('E_SPILL', `the spill journal ${replayed.source} held ${replayed.damagedBytes} bytes of entries that fail their checksum (damaged on disk): their records could not be replayed and are kept in ${replayed.keptAt}; the other entries were replayed`);
    }
  }

  private writeSucceeded(): void {
    this.overflowing = false;
    this.failures = 0;
    this.failingSince = null;
    this.lastWriteError = null;
  }

  private writeFailed(err: unknown): void {
    this.lastWriteError = describe(err);
    this.failingSince ??= Date.now();
    this.failures++;
    const backoff = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(this.failures, 16));
    this.backoffUntil = Date.now() + backoff / 2 + Math.random() * (backoff / 2);
    if (!(err instanceof InferlogError)) this.report('E_WRITE', `writing records failed (retrying): ${describe(err)}`, err);
  }

  /** Moves queued records to the journal, batch by batch, each appended and fsynced before it leaves memory. */
  private async spillQueue(everything: boolean): Promise<void> {
    const spill = this.spill;
    if (!spill) return;
    const lowWater = everything ? 0 : this.options.maxQueueBytes * SPILL_HIGH_WATER * 0.5;
    const failing = this.failingSince !== null;
    while (this.pendingRows > 0 && (everything || failing || this.queueBytes > lowWater)) {
      if (!spill.hasRoom()) {
        this.spillError = `full (maxSpillBytes ${this.options.maxSpillBytes})`;
        return;
      }
      const batch = this.retryBatch ?? this.takeBatch();
      this.retryBatch = null;
      this.inFlight = batch;
      try {
        await spill.append(batch.records);
      } catch (err) {
        this.retryBatch = batch;
        this.inFlight = null;
        this.spillError = describe(err);
        this.report('E_SPILL', `cannot write the spill journal in ${this.options.spillDir} (records stay in memory): ${describe(err)}`, err);
        return;
      }
      this.inFlight = null;
      this.spillError = null;
      this.overflowing = false;
      this.queueBytes -= batch.bytes;
      this.counts.spilled += batch.records.length;
    }
  }

  private takeBatch(): Batch {
    const { maxRows, maxBytes } = this.options.batch;
    const records: InferenceRecord[] = [];
    let bytes = 0;
    let taken = 0;
    while (taken < this.queue.length && records.length < maxRows && (records.length === 0 || bytes < maxBytes)) {
      const exchange = this.queue[taken++];
      bytes += exchange.heldBytes;
      records.push(this.toRecord(exchange));
    }
    this.queue.splice(0, taken);
    return { records, bytes };
  }

  private toRecord(exchange: Exchange): InferenceRecord {
    try {
      return buildRecord(exchange, this.options, (message) => this.report('E_RECORD', message));
    } catch (err) {
      this.report('E_RECORD', `building the record of request ${exchange.requestId} failed; a minimal record is stored instead: ${describe(err)}`, err);
      return fallbackRecord(exchange, this.options, err);
    }
  }

  private drop(count: number, code: InferlogErrorCode, message: string): InferlogError {
    this.counts.dropped += count;
    try {
      this.options.onDrop?.(count, message);
    } catch {
      // a failing onDrop must not reach the app
    }
    return this.report(code, message);
  }

  /** Sends a failure to `onError` (or stderr, once a minute per kind). Never throws. */
  private report(code: InferlogErrorCode, message: string, cause?: unknown): InferlogError {
    const error = new InferlogError(code, message, { cause });
    this.lastError = message;
    try {
      if (this.options.onError) {
        this.options.onError(error);
      } else {
        const last = this.reported.get(code) ?? 0;
        if (Date.now() - last >= DEFAULT_REPORT_INTERVAL_MS) {
          this.reported.set(code, Date.now());
          console.error(error.message);
        }
      }
    } catch {
      // onError itself failed: nothing more can be done without risking the host app.
    }
    return error;
  }
}
