import type { Exchange } from '../capture/exchange';
import type { LossReason, LostRecord } from '../chain/statement';
import type { DeliveryCounts } from '../delivery/reporter';
import type { InferlogError, InferlogErrorCode } from '../errors';
import type { OversightEvent, StoredEvent } from '../events/event';
import type { CompiledRoute } from '../routes';

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

/**
 * Everything after capture: the backlog with its overflow policy, record building, the delivery loop,
 * the chain, the completeness statements and oversight events. The logger hands it finished exchanges
 * and asks it for room; it runs in this thread (`LocalWriter`) or in a worker thread (`ThreadWriter`).
 */
export interface RecordWriter {
  /** The id of this writer's record chain. */
  readonly chainId: string;
  /** Whether anything waits in memory or in the journal. */
  readonly hasWork: boolean;
  /** Whether the backlog is below `maxQueueBytes`. */
  hasRoom(): boolean;
  /** Whether `bytes` more fit while nothing overflows. */
  hasRoomFor(bytes: number): boolean;
  /** Resolves true once there is room, false after `ms` or when the waiters are refused. */
  waitForRoom(ms: number): Promise<boolean>;
  /** Tells every request waiting for room there will be none. */
  refuseWaiters(): void;
  /** Why records back up (the database's and the journal's state), for 503 bodies. */
  backlogCause(): string;
  /** Takes a finished exchange (its record is built off the request path); never throws. */
  take(exchange: Exchange<CompiledRoute>): void;
  /** Counts records lost before they reached the writer; returns the error reported. */
  drop(count: number, reason: LossReason, code: InferlogErrorCode, message: string, lost?: readonly LostRecord[]): InferlogError;
  flush(): Promise<void>;
  ready(): Promise<void>;
  event(subject: string, event: OversightEvent): Promise<StoredEvent>;
  /**
   * Writes what it holds until `deadline`, states its completeness a last time and releases the store;
   * rejects when records were lost (`unfinished`: requests still running at the deadline, counted lost).
   */
  close(deadline: number, unfinished: number): Promise<void>;
  /** The event loop emptied without close(): writes what it holds and the final statement. */
  beforeExit(): Promise<void>;
  stats(): InferenceLogStats;
}
