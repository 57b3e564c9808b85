import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Exchange } from '../capture/exchange';
import type { LossReason, LostRecord } from '../chain/statement';
import { Reporter } from '../delivery/reporter';
import { RoomWaiters } from '../delivery/room-waiters';
import { describe, InferlogError, type InferlogErrorCode } from '../errors';
import type { OversightEvent, StoredEvent } from '../events/event';
import { uuidv7 } from '../ids';
import type { InferenceLogOptions, ResolvedOptions } from '../options';
import type { CompiledRoute } from '../routes';
import { packExchanges } from './exchange-transfer';
import { LocalWriter } from './local-writer';
import type { InferenceLogStats, RecordWriter } from './record-writer';
import { SharedStats } from './shared-stats';
import { receivedError, type FromThread, type ThreadMethod, type ThreadStart, type ToThread } from './thread-messages';

/** The compiled thread entry (next to this file, or in dist/ when this runs from the TypeScript sources). */
const ENTRY = ((here) => (existsSync(here) ? here : join(__dirname, '..', '..', 'dist', 'writer', 'writer-thread.js')))(
  join(__dirname, 'writer-thread.js'),
);

/** Finished exchanges wait this long, or until there are this many, to cross to the thread in one message. */
const HAND_OFF_MS = 10;
const HAND_OFF_ROWS = 256;
/** How often requests waiting for room (overflow `wait`) look at the thread's backlog again. */
const ROOM_POLL_MS = 5;

/**
 * The writer in a worker thread, as pino runs its transports: the logger's thread keeps only capture
 * and the hand-off. Finished exchanges cross in batches (their bodies in one transferred buffer);
 * admission and `stats()` read the thread's counters from shared memory; calls (flush, close, events)
 * are messages answered by the thread. While a call is under way the thread holds the process open,
 * otherwise never.
 */
export class ThreadWriter implements RecordWriter {
  private readonly threadChainId = uuidv7();
  private readonly worker: Worker;
  private readonly shared = new SharedStats();
  private readonly routeIndex: Map<CompiledRoute, number>;
  private pending: Exchange<CompiledRoute>[] = [];
  private pendingBytes = 0;
  private postedBytes = 0;
  /** Batches posted and not yet taken by the thread (it counts them in shared memory): a writer here takes them over should it die. */
  private inTransit: { seq: number; exchanges: Exchange<CompiledRoute>[] }[] = [];
  private posted = 0;
  private handOff: NodeJS.Timeout | null = null;
  private readonly calls = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  private nextCall = 1;
  private lastError: string | null = null;
  private cause = 'database: slower than requests arrive';
  private readonly waiters = new RoomWaiters();
  private roomTimer: NodeJS.Timeout | null = null;
  /** The thread has ended (closed, or failed): what is reported now is reported here. */
  private ended: string | null = null;
  /** The writer that goes on in this thread after the writer thread failed (a new chain; it replays the thread's journals). */
  private fallback: LocalWriter | null = null;
  private exitTried = false;
  /** Losses sent to the thread and not yet answered: a writer taking over counts them should it die first. */
  private readonly dropsSent = new Map<number, Parameters<RecordWriter['drop']>>();
  private dropsMade = 0;
  /** The thread began close() and counted the requests still unfinished then. */
  private unfinishedCounted = false;
  /** Records the thread counted lost, from its messages (not its shared counter), so that stats() and onDrop agree. */
  private dropped = 0;
  /** Losses and failures after the thread ended (a request finishing after close()). */
  private readonly after: Reporter;

  constructor(
    private readonly options: ResolvedOptions,
    sent: InferenceLogOptions,
  ) {
    this.routeIndex = new Map(options.selector.routes.map((route, i) => [route, i]));
    this.after = new Reporter(options);
    const start: ThreadStart = {
      options: sent,
      chainId: this.threadChainId,
      stats: this.shared.buffer,
      onError: options.onError !== null,
    };
    this.worker = new Worker(ENTRY, { workerData: start, env: process.env });
    this.worker.on('message', (message: FromThread) => this.receive(message));
    this.worker.on('error', (err) => this.failed(`the writer thread failed: ${describe(err)}`));
    this.worker.on('exit', (code) => this.failed(`the writer thread exited (code ${code})`));
    // After the listeners: adding a 'message' listener refs the thread's port again.
    this.worker.unref();
  }

  get chainId(): string {
    return this.fallback?.chainId ?? this.threadChainId;
  }

  get hasWork(): boolean {
    if (this.fallback) return this.fallback.hasWork;
    return this.pending.length > 0 || this.posted > this.shared.get('takenBatches') || this.shared.get('hasWork') === 1;
  }

  /** Bytes held for records: in the thread's backlog, on their way there, and waiting to be handed off. */
  private get heldBytes(): number {
    // Taken first: the thread adds to its backlog before it counts the batch taken, so nothing is missed between the two reads.
    const taken = this.shared.get('takenBytes');
    return this.shared.get('queueBytes') + (this.postedBytes - taken) + this.pendingBytes;
  }

  hasRoom(): boolean {
    if (this.fallback) return this.fallback.hasRoom();
    return this.heldBytes < this.options.maxQueueBytes;
  }

  hasRoomFor(bytes: number): boolean {
    if (this.fallback) return this.fallback.hasRoomFor(bytes);
    return this.shared.get('overflowing') === 0 && this.heldBytes + bytes <= this.options.maxQueueBytes;
  }

  waitForRoom(ms: number): Promise<boolean> {
    if (this.fallback) return this.fallback.waitForRoom(ms);
    const room = this.waiters.wait(ms);
    // The thread's backlog shrinks there: look again every few ms while anyone waits.
    this.roomTimer ??= setInterval(() => {
      if (this.hasRoom()) this.waiters.tell(true);
      if (this.waiters.size === 0 && this.roomTimer) {
        clearInterval(this.roomTimer);
        this.roomTimer = null;
      }
    }, ROOM_POLL_MS);
    return room;
  }

  refuseWaiters(): void {
    this.fallback?.refuseWaiters();
    this.waiters.tell(false);
  }

  backlogCause(): string {
    return this.fallback?.backlogCause() ?? this.cause;
  }

  take(exchange: Exchange<CompiledRoute>): void {
    if (this.fallback) {
      this.fallback.take(exchange);
      return;
    }
    if (this.ended) {
      this.after.drop(1, 'after_close', 'E_CLOSED', `a finished request's record could not be written: ${this.ended}`);
      return;
    }
    this.pending.push(exchange);
    this.pendingBytes += exchange.heldBytes;
    if (this.pending.length >= HAND_OFF_ROWS) this.handOver();
    else this.handOff ??= setTimeout(() => this.handOver(), HAND_OFF_MS).unref();
  }

  /** Posts the exchanges waiting here to the thread, in one message; never throws. */
  private handOver(): void {
    if (this.handOff) clearTimeout(this.handOff);
    this.handOff = null;
    if (this.pending.length === 0 || this.ended) return;
    const list = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const taken = this.shared.get('takenBatches');
    while (this.inTransit.length > 0 && this.inTransit[0]!.seq <= taken) this.inTransit.shift();
    try {
      this.postBatch(list);
      this.postedBytes += bytes;
      this.inTransit.push({ seq: ++this.posted, exchanges: list });
    } catch {
      // A parsed body that cannot be copied to a thread (it holds a function, a symbol…) goes as JSON would
      // store it; only the exchanges that hold one are changed, and then each crosses alone.
      for (const x of list) {
        if (!cloneable(x.parsedRequestBody)) x.parsedRequestBody = asJson(x.parsedRequestBody);
        try {
          this.postBatch([x]);
          this.postedBytes += x.heldBytes;
          this.inTransit.push({ seq: ++this.posted, exchanges: [x] });
        } catch (err) {
          this.drop(1, 'capture_failed', 'E_CAPTURE', `a record could not be handed to the writer thread: ${describe(err)}`);
        }
      }
    }
  }

  private postBatch(list: Exchange<CompiledRoute>[]): void {
    const batch = packExchanges(list, this.routeIndex);
    this.post({ type: 'exchanges', batch }, [batch.bodies]);
  }

  private post(message: ToThread, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  drop(count: number, reason: LossReason, code: InferlogErrorCode, message: string, lost?: readonly LostRecord[]): InferlogError {
    if (this.fallback) return this.fallback.drop(count, reason, code, message, lost);
    if (this.ended) return this.after.drop(count, reason, code, message, lost);
    const key = ++this.dropsMade;
    this.dropsSent.set(key, [count, reason, code, message, lost]);
    void this.call('drop', [count, reason, code, message, lost])
      .then(() => this.dropsSent.delete(key))
      .catch(() => {});
    return new InferlogError(code, this.after.scrub(message));
  }

  flush(): Promise<void> {
    return this.fallback?.flush() ?? (this.call('flush', []) as Promise<void>);
  }

  ready(): Promise<void> {
    return this.fallback?.ready() ?? (this.call('ready', []) as Promise<void>);
  }

  event(subject: string, event: OversightEvent): Promise<StoredEvent> {
    return this.fallback?.event(subject, event) ?? (this.call('event', [subject, event]) as Promise<StoredEvent>);
  }

  async close(deadline: number, unfinished: number): Promise<void> {
    if (this.fallback) return this.fallback.close(deadline, unfinished);
    try {
      await this.call('close', [deadline, unfinished]);
    } catch (err) {
      // The thread died during close(): the writer here that took over closes instead.
      if (this.fallback) return await (this.fallback as LocalWriter).close(deadline, this.unfinishedCounted ? 0 : unfinished);
      throw err;
    } finally {
      this.ended ??= 'the logger is closed';
      await this.worker.terminate();
    }
  }

  /**
   * Once: 'beforeExit' comes again after every round trip to the thread, which would keep the process
   * alive for ever. In this thread the same holds, as the writer's failed flush leaves nothing that keeps
   * the process open: what it could not write stays in its journals.
   */
  beforeExit(): Promise<void> {
    if (this.fallback) return this.fallback.beforeExit();
    if (this.exitTried) return Promise.resolve();
    this.exitTried = true;
    return this.call('beforeExit', []) as Promise<void>;
  }

  stats(): InferenceLogStats {
    const stats = this.shared.stats(this.after.lastError ?? this.lastError);
    if (this.fallback) {
      // What the failed thread did, and what this thread's writer has done since.
      const here = this.fallback.stats();
      for (const key of ['captured', 'written', 'retried', 'spilled', 'replayed'] as const) here[key] += stats[key];
      here.dropped += this.dropped + this.after.counts.dropped;
      return here;
    }
    stats.dropped = this.dropped + this.after.counts.dropped;
    return stats;
  }

  /** Calls the thread's writer (the exchanges waiting here go first); the thread holds the process open until it answers. */
  private call(method: ThreadMethod, args: unknown[]): Promise<unknown> {
    if (this.ended) return Promise.reject(new InferlogError('E_CLOSED', `${this.ended}: ${method} was not done`));
    this.handOver();
    const id = this.nextCall++;
    const answer = new Promise<unknown>((resolve, reject) => this.calls.set(id, { resolve, reject }));
    if (this.calls.size === 1) this.worker.ref();
    this.post({ type: 'call', id, method, args });
    return answer;
  }

  private receive(message: FromThread): void {
    switch (message.type) {
      case 'reply': {
        const call = this.calls.get(message.id);
        if (!call) return;
        this.calls.delete(message.id);
        if (this.calls.size === 0) this.worker.unref();
        if (message.error) call.reject(receivedError(message.error));
        else call.resolve(message.value);
        return;
      }
      case 'closing':
        this.unfinishedCounted = true;
        return;
      case 'status':
        this.lastError = message.lastError;
        this.cause = message.cause;
        return;
      case 'error':
        try {
          this.options.onError?.(receivedError({ name: 'InferlogError', message: message.message, code: message.code }) as InferlogError);
        } catch {
          // a failing onError must not reach the app
        }
        return;
      case 'drop':
        this.dropped += message.count;
        try {
          this.options.onDrop?.(message.count, message.message);
        } catch {
          // a failing onDrop must not reach the app
        }
        return;
    }
  }

  /**
   * The thread ended. Unless it was closed, it failed: calls under way fail, and a writer in this thread
   * takes over (a new chain) with the exchanges not yet handed over; it replays the thread's journals once
   * they go stale. What the thread held in memory past its write-ahead journal is lost, and said so.
   */
  private failed(why: string): void {
    for (const call of this.calls.values()) call.reject(new InferlogError('E_WRITE', why));
    this.calls.clear();
    if (this.ended) return;
    this.ended = why;
    if (this.handOff) clearTimeout(this.handOff);
    this.handOff = null;
    // What it held in memory only (not yet in a journal) is lost; what it had not taken yet is still here.
    const volatile = this.shared.get('volatileRows');
    const taken = this.shared.get('takenBatches');
    const untaken = [...this.inTransit.filter((b) => b.seq > taken).flatMap((b) => b.exchanges), ...this.pending];
    this.inTransit = [];
    this.pending = [];
    const message = `${why}: ${volatile} records it held in memory only are lost`;
    this.refuseWaiters();
    const fallback = new LocalWriter(this.options);
    this.fallback = fallback;
    fallback.reporter.report(
      'E_WRITE',
      `${why}: records go on in this thread under a new chain (${fallback.chainId}), and the thread's journals are replayed`,
    );
    if (volatile > 0) fallback.drop(volatile, 'writer_failed', 'E_WRITE', message);
    // Losses the app reported that the thread had not answered for: counted here (one it counted just before dying is counted twice, never none).
    for (const args of this.dropsSent.values()) fallback.drop(...args);
    this.dropsSent.clear();
    for (const exchange of untaken) fallback.take(exchange);
  }
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** A value as JSON would store it (BigInt as its digits), for one that cannot be copied to a thread. */
function asJson(value: unknown): unknown {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return String(value);
  }
}
