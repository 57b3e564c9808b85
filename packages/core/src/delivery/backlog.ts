import type { Exchange } from '../capture/exchange';
import type { OverflowPolicy } from '../options';
import type { InferenceRecord } from '../record/record';
import type { Reporter } from './reporter';
import { RoomWaiters } from './room-waiters';
import type { CompiledRoute } from '../routes';
import type { WriteAheadTicket } from './write-ahead';
import type { LossReason, LostRecord } from '../chain/statement';

/** How a lost exchange or record is named in the completeness statement (`record/lost.ts`). */
export interface LossNames {
  exchange(x: Exchange<CompiledRoute>, reason: LossReason): LostRecord;
  record(r: InferenceRecord, reason: LossReason): LostRecord;
}

/** Records taken from the backlog to be written or spilled together. */
export interface Batch {
  records: InferenceRecord[];
  /** The captured bytes it holds, released when it is written or spilled. */
  bytes: number;
  /** A write of it was tried before: some of its records may be stored already. */
  attempted?: boolean;
  /** Its entries in the write-ahead journal, marked done once it is stored or spilled. */
  tickets?: WriteAheadTicket[];
}

/**
 * Everything captured that is held in memory: finished exchanges waiting to become records, batches
 * ready to be written (made into records and put in the write-ahead journal, or whose write or spill
 * failed: taken first), and the batches being written or spilled (a write and a spill may be under way
 * at once). It is bounded by the bytes the exchanges hold (`maxQueueBytes`),
 * and applies the overflow policy when that is reached.
 */
export class Backlog {
  private exchanges: Exchange<CompiledRoute>[] = [];
  private readonly ready: Batch[] = [];
  private readonly inFlight = new Set<Batch>();
  /** Captured bytes held in memory, in-flight and retried batches included. */
  bytes = 0;
  /** The backlog overflowed and nothing has been written or spilled since. */
  overflowing = false;
  /** Requests waiting for room (the `wait` policy), told true when there is room, false at their deadline. */
  private readonly waiters = new RoomWaiters();

  constructor(
    private readonly maxBytes: number,
    private readonly policy: OverflowPolicy,
    private readonly reporter: Reporter,
    private readonly names: LossNames,
  ) {}

  /** Records in memory: waiting, in flight or to be retried. */
  get rows(): number {
    let rows = this.exchanges.length;
    for (const batch of this.ready) rows += batch.records.length;
    for (const batch of this.inFlight) rows += batch.records.length;
    return rows;
  }

  /** Records of batches in the write-ahead journal (ready or in flight): a process or thread that dies leaves them to a replay. */
  get journaledRows(): number {
    let rows = 0;
    for (const batch of this.ready) if (batch.tickets?.length) rows += batch.records.length;
    for (const batch of this.inFlight) if (batch.tickets?.length) rows += batch.records.length;
    return rows;
  }

  /** Exchanges waiting to be taken. */
  get waiting(): number {
    return this.exchanges.length;
  }

  /** Whether a batch is ready to be written (staged in the write-ahead journal, or given back after a failed write). */
  get hasReady(): boolean {
    return this.ready.length > 0;
  }

  /** Whether there is anything to take: waiting exchanges or a ready batch (not the batches in flight). */
  get takeable(): boolean {
    return this.exchanges.length > 0 || this.ready.length > 0;
  }

  /** Whether `share` of `maxQueueBytes` or more is held. */
  holds(share: number): boolean {
    return this.bytes >= this.maxBytes * share;
  }

  /** Whether more than `share` of `maxQueueBytes` is held. */
  above(share: number): boolean {
    return this.bytes > this.maxBytes * share;
  }

  /** Whether the backlog is below `maxQueueBytes`: under the `wait` policy, a new request may go on. */
  get hasRoom(): boolean {
    return this.bytes < this.maxBytes;
  }

  /** Resolves true once the backlog is below `maxQueueBytes`, or false after `ms`. */
  waitForRoom(ms: number): Promise<boolean> {
    return this.waiters.wait(ms);
  }

  /** At close: requests still waiting for room are told there will be none (they are answered 503 unserved). */
  refuseWaiters(): void {
    this.waiters.tell(false);
  }

  /** Lets waiting requests go on once there is room. */
  private freed(): void {
    if (this.waiters.size > 0 && this.hasRoom) this.waiters.tell(true);
  }

  /** Whether `reserve` more bytes fit while nothing overflows. */
  hasRoomFor(reserve: number): boolean {
    return !this.overflowing && this.bytes + reserve <= this.maxBytes;
  }

  /**
   * Adds a finished exchange; when it does not fit, the overflow policy drops the newest (this one) or
   * the oldest waiting ones, counted and reported with `cause()`. False when this one was dropped.
   */
  add(exchange: Exchange<CompiledRoute>, cause: () => string): boolean {
    const bytes = exchange.heldBytes;
    // Under `wait` the request was let in when there was room: its record is kept even past the bound
    // (by at most what the requests let in together hold), never dropped.
    if (this.bytes + bytes > this.maxBytes && this.policy !== 'wait') {
      this.overflowing = true;
      const why = `the queue is full (maxQueueBytes ${this.maxBytes}; ${cause()})`;
      if (this.policy !== 'drop-oldest') {
        const named = this.reporter.namesLosses ? [this.names.exchange(exchange, 'overflow')] : [];
        this.reporter.drop(1, 'overflow', 'E_QUEUE_FULL', `${why}; the newest record was dropped`, named);
        return false;
      }
      const dropped: LostRecord[] = [];
      let count = 0;
      while (this.exchanges.length > 0 && this.bytes + bytes > this.maxBytes) {
        const oldest = this.exchanges.shift()!;
        this.bytes -= oldest.heldBytes;
        count++;
        if (this.reporter.namesLosses) dropped.push(this.names.exchange(oldest, 'overflow'));
      }
      if (count > 0) this.reporter.drop(count, 'overflow', 'E_QUEUE_FULL', `${why}; the ${count} oldest records were dropped`, dropped);
    }
    this.exchanges.push(exchange);
    this.bytes += bytes;
    return true;
  }

  /** The next batch to write or spill, marked in flight: ready batches, else one made of waiting exchanges. */
  take(maxRows: number, maxBytes: number, build: (exchange: Exchange<CompiledRoute>) => InferenceRecord): Batch {
    return this.takeReady(maxRows, maxBytes) ?? this.takeWaiting(maxRows, maxBytes, build);
  }

  /**
   * The first ready batch, joined by the ones after it while they fit in `maxRows` and about
   * `maxBytes` and are in the write-ahead journal as it is, or not (batches staged every flush interval
   * are small: one write takes what several hold), marked in flight; null when there is none.
   */
  takeReady(maxRows: number, maxBytes: number): Batch | null {
    const first = this.ready.shift();
    if (!first) return null;
    let batch = first;
    for (
      let next = this.ready[0];
      next &&
      batch.records.length + next.records.length <= maxRows &&
      batch.bytes < maxBytes &&
      // A batch whose journal append failed is held in memory only: joined to journaled ones it would be counted as journaled.
      Boolean(next.tickets?.length) === Boolean(first.tickets?.length);
      next = this.ready[0]
    ) {
      this.ready.shift();
      if (batch === first)
        batch = { records: [...first.records], bytes: first.bytes, attempted: first.attempted, tickets: [...(first.tickets ?? [])] };
      batch.records.push(...next.records);
      batch.bytes += next.bytes;
      batch.attempted ||= next.attempted;
      batch.tickets!.push(...(next.tickets ?? []));
    }
    this.inFlight.add(batch);
    return batch;
  }

  /** Up to `maxRows` waiting exchanges (and about `maxBytes`) made into records by `build`, marked in flight. */
  takeWaiting(maxRows: number, maxBytes: number, build: (exchange: Exchange<CompiledRoute>) => InferenceRecord): Batch {
    const records: InferenceRecord[] = [];
    let bytes = 0;
    let taken = 0;
    while (taken < this.exchanges.length && records.length < maxRows && (records.length === 0 || bytes < maxBytes)) {
      const exchange = this.exchanges[taken++]!;
      bytes += exchange.heldBytes;
      records.push(build(exchange));
    }
    this.exchanges.splice(0, taken);
    const batch = { records, bytes };
    this.inFlight.add(batch);
    return batch;
  }

  /** An in-flight batch is in the write-ahead journal: it is ready to be written, after those before it. */
  staged(batch: Batch): void {
    this.inFlight.delete(batch);
    this.ready.push(batch);
  }

  /** An in-flight batch is stored or journaled: its bytes are free. */
  done(batch: Batch): void {
    this.inFlight.delete(batch);
    this.bytes -= batch.bytes;
    this.overflowing = false;
    this.freed();
  }

  /** An in-flight batch failed: it is taken first next time. Returns its size. */
  giveBack(batch: Batch): number {
    this.inFlight.delete(batch);
    this.ready.unshift(batch);
    return batch.records.length;
  }

  /**
   * Forgets everything in memory (at the close deadline). Returns the records that were, apart from
   * those in the write-ahead journal (the next process replays them).
   */
  clear(): LostRecord[] {
    const lost = this.exchanges.map((x) => this.names.exchange(x, 'close_deadline'));
    for (const batch of [...this.ready, ...this.inFlight])
      if (!batch.tickets?.length) for (const r of batch.records) lost.push(this.names.record(r, 'close_deadline'));
    this.exchanges = [];
    this.ready.length = 0;
    this.inFlight.clear();
    this.bytes = 0;
    this.freed();
    return lost;
  }
}
