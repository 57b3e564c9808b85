import type { Exchange } from '../capture/exchange';
import type { ChainWriter } from '../chain/chain-writer';
import { describe, InferlogError } from '../errors';
import type { ResolvedOptions } from '../options';
import type { InferenceRecord } from '../record/record';
import { StoredMeanwhileError, type RecordSink } from '../sink/postgres-sink';
import type { Backlog, Batch, LossNames } from './backlog';
import type { LostRecord } from '../chain/statement';
import type { Reporter } from './reporter';
import type { Spill } from './spill';
import { writeIsolatingBadRows } from './write';
import type { CompiledRoute } from '../routes';

const MAX_BACKOFF_MS = 30_000;
/** Past this share of `maxQueueBytes` batches go to the journal even while the database answers. */
const SPILL_HIGH_WATER = 0.75;
/**
 * Most records made (and journaled) at once: making them is synchronous, and a writer in the app's
 * thread must not hold its event loop for long. A write joins staged batches up to `batch.maxRows`.
 */
const STAGE_ROWS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the delivery loop works with; the logger makes each part once. */
export interface DeliveryParts {
  options: ResolvedOptions;
  backlog: Backlog;
  reporter: Reporter;
  spill: Spill | null;
  records: ChainWriter;
  /** The connected, migrated store, opened on first use (rejects while it cannot be). */
  open(): Promise<RecordSink>;
  /** Turns a captured exchange into its record; never throws. */
  build(exchange: Exchange<CompiledRoute>): InferenceRecord;
  /** How lost records are named in completeness statements. */
  names: LossNames;
}

/**
 * The delivery loop, off the request path: every flush interval makes the waiting exchanges into
 * batches and appends them to the write-ahead journal (when there is one); takes batches from the
 * backlog, seals them into the writer's chain and writes them; backs off when writes fail; and replays the journal (this process's,
 * and those of processes that are gone) once writes succeed again. Beside it, and never waiting for a
 * write in flight (a retry into a silent network waits for its deadline), spilling moves what waits in
 * memory to the journal when writes have failed for `spillAfterMs` or the backlog passes its high-water
 * mark.
 */
export class Delivery {
  private timer: NodeJS.Timeout | null = null;
  /** Stages what waits every flush interval, whatever the write loop is doing. */
  private stageTimer: NodeJS.Timeout | null = null;
  private staging: Promise<void> | null = null;
  private writeAheadError: string | null = null;
  private draining: Promise<void> | null = null;
  private spilling: Promise<void> | null = null;
  /** Checks, while a write is in flight, whether to spill beside it. */
  private stallTimer: NodeJS.Timeout | null = null;
  private readonly claimTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private backoffUntil = 0;
  /** When writes started failing; null while they succeed. */
  private failingSince: number | null = null;
  /** The last failure to open the store or write a batch (cleared by a successful write). */
  private lastWriteError: string | null = null;
  private spillError: string | null = null;
  private closed = false;

  constructor(private readonly parts: DeliveryParts) {
    if (parts.spill) {
      void this.claimOrphans();
      // A process that dies while this one runs leaves a journal that goes stale later: look again now and then.
      this.claimTimer = setInterval(() => void this.claimOrphans(), Math.max(100, Math.floor(parts.options.spillStaleMs / 2))).unref();
    }
  }

  /** Whether anything waits in memory or in the journal. */
  get hasWork(): boolean {
    return this.parts.backlog.rows > 0 || (this.parts.spill?.pending ?? false);
  }

  /** Why records back up: the database's state and the journal's, for overflow messages. */
  backlogCause(): string {
    return `database: ${this.lastWriteError ?? 'slower than requests arrive'}; spill journal: ${this.spillError ?? (this.parts.spill ? 'full' : 'disabled')}`;
  }

  /** After an exchange was added: write now when a batch is full or memory runs high, else within the flush interval. */
  added(): void {
    const { backlog, options } = this.parts;
    const batchFull = backlog.waiting >= options.batch.maxRows;
    const memoryHigh = backlog.holds(SPILL_HIGH_WATER);
    if (batchFull || memoryHigh || backlog.bytes >= options.batch.maxBytes) {
      this.schedule(0);
    } else if (!this.timer) {
      this.schedule(options.batch.flushIntervalMs);
    }
    if (this.parts.spill?.writeAhead && (!this.stageTimer || batchFull)) {
      if (this.stageTimer) clearTimeout(this.stageTimer);
      this.stageTimer = setTimeout(
        () => {
          this.stageTimer = null;
          void this.stage();
        },
        batchFull ? 0 : options.batch.flushIntervalMs,
      ).unref();
    }
    // Beside a write in flight: a whole batch, or memory running high (not one journal entry per request).
    if ((batchFull || memoryHigh) && this.shouldSpill()) void this.spillSoon();
  }

  /** Writes everything queued and journaled now. Rejects when a write fails (the records stay queued or journaled and are retried). */
  async flush(): Promise<void> {
    this.backoffUntil = 0;
    while (this.hasWork) {
      const before = this.parts.reporter.counts.written;
      await this.drain();
      if (this.hasWork && this.parts.reporter.counts.written === before) {
        throw new InferlogError(
          'E_WRITE',
          `${this.parts.backlog.rows} records are still queued${this.parts.spill?.pending ? ' (and some journaled)' : ''}: ${this.parts.reporter.lastError}`,
        );
      }
    }
  }

  /** Stops the timers and keeps flushing until nothing is left or `deadline` passes. */
  async finish(deadline: number): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.stageTimer) clearTimeout(this.stageTimer);
    this.stageTimer = null;
    if (this.claimTimer) clearInterval(this.claimTimer);
    while (this.hasWork && Date.now() < deadline) {
      try {
        await this.flush();
      } catch {
        await sleep(Math.min(Math.max(this.backoffUntil - Date.now(), 50), Math.max(deadline - Date.now(), 0)));
      }
    }
    await this.draining;
    await this.staging;
    await this.spilling;
  }

  /** At close, after `finish`: journals what is still in memory. Returns the records that could not be kept, and forgets them. */
  async spillRest(): Promise<LostRecord[]> {
    await this.spilling;
    if (this.parts.backlog.rows > 0) await this.spillBacklog(true);
    return this.parts.backlog.clear();
  }

  private async claimOrphans(): Promise<void> {
    try {
      if ((await this.parts.spill!.claimOrphans()) > 0 && !this.closed) this.schedule(0);
    } catch (err) {
      this.parts.reporter.report('E_SPILL', `cannot read the spill directory ${this.parts.options.spillDir}: ${describe(err)}`, err);
    }
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

  /** Nothing ready and less than one write takes waiting: the next write can wait for the flush interval. */
  private lessThanABatch(): boolean {
    const { backlog, options } = this.parts;
    // Without the write-ahead journal nothing is staged to join: a write takes what is made at once.
    const rows = this.parts.spill?.writeAhead ? options.batch.maxRows : this.stageRows;
    return !backlog.hasReady && backlog.waiting < rows && backlog.bytes < options.batch.maxBytes;
  }

  private shouldSpill(): boolean {
    if (!this.parts.spill) return false;
    const failingLong = this.failingSince !== null && Date.now() - this.failingSince >= this.parts.options.spillAfterMs;
    return failingLong || this.parts.backlog.holds(SPILL_HIGH_WATER);
  }

  /** Spills now, beside any write in flight; one spill at a time. */
  private spillSoon(): Promise<void> {
    this.spilling ??= this.spillBacklog(false).finally(() => {
      this.spilling = null;
    });
    return this.spilling;
  }

  /**
   * While a write is in flight, looks every `spillAfterMs` whether to spill beside it: a retry into a
   * silent network holds the loop until its deadline, and what arrives meanwhile must not wait for it.
   */
  private writing(started: boolean): void {
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.stallTimer = null;
    if (!started || !this.parts.spill) return;
    this.stallTimer = setInterval(() => {
      if (this.shouldSpill()) void this.spillSoon();
    }, this.parts.options.spillAfterMs);
    this.stallTimer.unref();
  }

  /**
   * A batch to spill (or to write without the write-ahead journal): ready ones, else one made of waiting
   * exchanges, at most STAGE_ROWS either way (the spill journal is synced: no write-ahead needed). A
   * spilled entry is replayed whole, parsed and sealed at once: it is kept as small as a staged batch.
   */
  private takeBatch(): Batch {
    return this.parts.backlog.take(this.stageRows, this.parts.options.batch.maxBytes, this.parts.build);
  }

  /** Most records made (and journaled, or spilled) at once: `batch.maxRows`, at most STAGE_ROWS. */
  private get stageRows(): number {
    return Math.min(this.parts.options.batch.maxRows, STAGE_ROWS);
  }

  /** A batch to write: with a write-ahead journal, only one that is in it; null when there is none. */
  private async takeBatchToWrite(): Promise<Batch | null> {
    if (!this.parts.spill?.writeAhead) return this.takeBatch();
    const { maxRows, maxBytes } = this.parts.options.batch;
    const ready = this.parts.backlog.takeReady(maxRows, maxBytes);
    if (ready) return ready;
    await this.stage();
    return this.parts.backlog.takeReady(maxRows, maxBytes);
  }

  /** Makes the waiting exchanges into batches and appends them to the write-ahead journal; one stage at a time. */
  private stage(): Promise<void> {
    this.staging ??= this.stageWaiting().finally(() => {
      this.staging = null;
    });
    return this.staging;
  }

  private async stageWaiting(): Promise<void> {
    const { backlog, options, reporter } = this.parts;
    const writeAhead = this.parts.spill!.writeAhead!;
    // What waits now, not what arrives meanwhile: under steady load a stage would never end.
    for (let left = backlog.waiting; left > 0 && backlog.waiting > 0; ) {
      const batch = backlog.takeWaiting(Math.min(left, this.stageRows), options.batch.maxBytes, this.parts.build);
      left -= batch.records.length;
      try {
        batch.tickets = [await writeAhead.append(batch.records)];
        this.writeAheadError = null;
      } catch (err) {
        // The batch goes on without it: nothing is lost unless the process is killed before it is stored.
        if (this.writeAheadError === null) {
          reporter.report(
            'E_SPILL',
            `cannot write the write-ahead journal in ${options.spillDir} (batches are sent without it until it can be written; a process killed meanwhile loses what it holds in memory): ${describe(err)}`,
            err,
          );
        }
        this.writeAheadError = this.parts.reporter.describe(err);
      }
      backlog.staged(batch);
    }
  }

  /** A batch is stored or journaled: it leaves memory and the write-ahead journal. */
  private finished(batch: Batch): void {
    this.parts.backlog.done(batch);
    for (const ticket of batch.tickets ?? []) this.parts.spill!.writeAhead!.done(ticket);
  }

  private async drainLoop(): Promise<void> {
    const { backlog, reporter, spill } = this.parts;
    while (this.hasWork) {
      if (this.shouldSpill()) await this.spillSoon();
      const wait = this.backoffUntil - Date.now();
      if (wait > 0) {
        this.schedule(wait);
        return;
      }
      let batch: Batch | null = null;
      try {
        const sink = await this.parts.open();
        // Journaled records go first once writes succeed (or when nothing else is left to probe with).
        if (spill?.pending && (this.failingSince === null || backlog.rows === 0)) {
          await this.replay(sink);
          continue;
        }
        if (!backlog.takeable) {
          // All that is left is being staged (then write it) or spilled (then replay it): wait for that.
          const moving = this.staging ?? this.spilling;
          if (!moving) return;
          await moving;
          continue;
        }
        batch = await this.takeBatchToWrite();
        if (!batch) continue;
        this.writing(true);
        await this.write(sink, batch);
        this.writing(false);
        this.finished(batch);
        this.writeSucceeded();
        if (this.lessThanABatch()) {
          // Under steady load what waits now is what arrived during that write: a few records. Written at
          // once, every batch would carry a transaction, a head move and a journal append for a handful of
          // rows; waiting the flush interval (flush() and close() do not) lets each write carry many.
          this.schedule(this.parts.options.batch.flushIntervalMs);
          return;
        }
      } catch (err) {
        this.writing(false);
        if (batch) reporter.counts.retried += backlog.giveBack(batch);
        this.writeFailed(err);
        if (this.shouldSpill()) await this.spillSoon();
        if (!this.closed) this.schedule(this.backoffUntil - Date.now());
        return;
      }
    }
  }

  /**
   * Writes a batch in the writer's chain. A batch tried before may be stored in part (an attempt whose
   * answer was lost): the rows found stored are left out and the rest sealed anew after the chain's
   * head was read back.
   */
  private async write(sink: RecordSink, batch: Batch): Promise<void> {
    const { records, reporter } = this.parts;
    for (let attempt = 1; ; attempt++) {
      try {
        await records.ready(sink);
        if (batch.attempted) {
          const stored = await sink.existing(batch.records.map((r) => r.id));
          if (stored.size > 0) {
            batch.records = batch.records.filter((r) => !stored.has(r.id));
            reporter.counts.written += stored.size; // stored by an attempt whose answer was lost
          }
        }
        batch.attempted = true;
        await records.sealAndWrite(batch.records, (sealed) => this.writeSealed(sink, sealed));
        return;
      } catch (err) {
        // Rows stored meanwhile by another attempt: seal the rest again now rather than after a backoff.
        if (!(err instanceof StoredMeanwhileError) || attempt >= 3) throw err;
      }
    }
  }

  private async writeSealed(sink: RecordSink, sealed: InferenceRecord[]): Promise<void> {
    const { reporter } = this.parts;
    const outcome = await writeIsolatingBadRows(sink, sealed, this.parts.records.chain);
    reporter.counts.written += outcome.stored + outcome.stripped;
    if (outcome.stripped > 0) {
      reporter.report(
        'E_WRITE',
        `PostgreSQL refused ${outcome.stripped} records; they were stored without their payload (see schema_errors)`,
      );
    }
    if (outcome.lost) {
      const lost = outcome.lost.records.map((r) => this.parts.names.record(r, 'refused'));
      reporter.drop(lost.length, 'refused', 'E_WRITE', outcome.lost.reason, lost);
    }
  }

  private async replay(sink: RecordSink): Promise<void> {
    const { reporter } = this.parts;
    // Journaled records may have been stored before (a crash after a commit): written as a retry.
    const replayed = await this.parts.spill!.replayNext((records) => this.write(sink, { records, bytes: 0, attempted: true }));
    if (!replayed) return;
    reporter.counts.replayed += replayed.records;
    reporter.unreadable(replayed.tornBytes + replayed.damagedBytes);
    this.writeSucceeded();
    if (replayed.notKept) {
      reporter.report(
        'E_SPILL',
        `the spill journal ${replayed.source} held ${replayed.tornBytes + replayed.damagedBytes} bytes that could not be read back (torn or damaged), and keeping them aside failed, so they are lost: ${replayed.notKept}`,
      );
    }
    if (replayed.tornBytes > 0) {
      reporter.report(
        'E_SPILL',
        `the spill journal ${replayed.source} ended in ${replayed.tornBytes} bytes that are not a whole entry (a write cut short by a crash); the entries before them were replayed${replayed.keptAt ? `, the bytes kept in ${replayed.keptAt}` : ''}`,
      );
    }
    if (replayed.damagedBytes > 0) {
      reporter.report(
        'E_SPILL',
        `the spill journal ${replayed.source} held ${replayed.damagedBytes} bytes of entries that fail their checksum (damaged on disk): their records could not be replayed${replayed.keptAt ? ` and are kept in ${replayed.keptAt}` : ''}; the other entries were replayed`,
      );
    }
  }

  private writeSucceeded(): void {
    this.parts.backlog.overflowing = false;
    this.failures = 0;
    this.failingSince = null;
    this.lastWriteError = null;
  }

  private writeFailed(err: unknown): void {
    this.lastWriteError = this.parts.reporter.describe(err);
    this.failingSince ??= Date.now();
    this.failures++;
    const backoff = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(this.failures, 16));
    this.backoffUntil = Date.now() + backoff / 2 + Math.random() * (backoff / 2);
    if (!(err instanceof InferlogError)) this.parts.reporter.report('E_WRITE', `writing records failed (retrying): ${describe(err)}`, err);
  }

  /** Moves records in memory to the journal, batch by batch, each appended and fsynced before it leaves memory. */
  private async spillBacklog(everything: boolean): Promise<void> {
    const { spill, backlog, options, reporter } = this.parts;
    if (!spill) return;
    // While the database answers, spill down to half the high-water mark, not everything.
    while (backlog.takeable && (everything || this.failingSince !== null || backlog.above(SPILL_HIGH_WATER * 0.5))) {
      if (!spill.hasRoom()) {
        this.spillError = `full (maxSpillBytes ${options.maxSpillBytes})`;
        return;
      }
      const batch = this.takeBatch();
      try {
        await spill.append(batch.records);
      } catch (err) {
        backlog.giveBack(batch);
        this.spillError = reporter.describe(err);
        reporter.report('E_SPILL', `cannot write the spill journal in ${options.spillDir} (records stay in memory): ${describe(err)}`, err);
        return;
      }
      this.finished(batch);
      this.spillError = null;
      reporter.counts.spilled += batch.records.length;
    }
  }
}
