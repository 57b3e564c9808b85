import type { InferenceLogStats } from './record-writer';

/**
 * The writer thread's counters, in shared memory so that `stats()` and admission read them at once in
 * the logger's thread. One writer (the thread), one reader: plain stores and loads suffice for counters.
 */
/** The delivery counters and queue gauges, copied as they are. */
const COUNTS = ['captured', 'written', 'retried', 'spilled', 'replayed', 'dropped', 'queueRows', 'queueBytes', 'journalBytes'] as const;
const SLOTS = [
  ...COUNTS,
  'storeReady',
  /** Held bytes of every exchange the thread has taken so far: what was posted and not yet taken is the difference. */
  'takenBytes',
  /** Batches of exchanges the thread has taken (they are numbered as posted). */
  'takenBatches',
  /** Records the thread holds in memory only, in no journal: what its death would lose. */
  'volatileRows',
  /** The backlog overflowed and nothing has been written or spilled since. */
  'overflowing',
  'hasWork',
] as const;
type Slot = (typeof SLOTS)[number];
const AT = Object.fromEntries(SLOTS.map((name, i) => [name, i])) as Record<Slot, number>;

export class SharedStats {
  readonly values: Float64Array;

  constructor(readonly buffer = new SharedArrayBuffer(SLOTS.length * Float64Array.BYTES_PER_ELEMENT)) {
    this.values = new Float64Array(buffer);
  }

  get(slot: Slot): number {
    return this.values[AT[slot]]!;
  }

  set(slot: Slot, value: number): void {
    this.values[AT[slot]] = value;
  }

  /** The writer's stats as the thread published them last (its last error travels by message). */
  stats(lastError: string | null): InferenceLogStats {
    const counts = Object.fromEntries(COUNTS.map((slot) => [slot, this.get(slot)])) as Record<(typeof COUNTS)[number], number>;
    return { ...counts, storeReady: this.get('storeReady') === 1, lastError };
  }

  /** Publishes the writer's stats and state (in the thread). */
  publish(
    stats: InferenceLogStats,
    state: { takenBytes: number; takenBatches: number; volatileRows: number; overflowing: boolean; hasWork: boolean },
  ): void {
    for (const slot of [
      'captured',
      'written',
      'retried',
      'spilled',
      'replayed',
      'dropped',
      'queueRows',
      'queueBytes',
      'journalBytes',
    ] as const)
      this.set(slot, stats[slot]);
    this.set('storeReady', stats.storeReady ? 1 : 0);
    this.set('takenBatches', state.takenBatches);
    this.set('volatileRows', state.volatileRows);
    // Last: the app's thread reads it first (see ThreadWriter.heldBytes).
    this.set('takenBytes', state.takenBytes);
    this.set('overflowing', state.overflowing ? 1 : 0);
    this.set('hasWork', state.hasWork ? 1 : 0);
  }
}
