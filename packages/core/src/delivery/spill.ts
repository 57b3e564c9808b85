import type { InferenceRecord } from '../record/record';
import { Heartbeat } from './heartbeat';
import { Journal, keepDamaged } from './journal';
import { replayFile, type ReplayResult } from './replay';
import { WriteAhead } from './write-ahead';

export interface Replayed extends ReplayResult {
  source: string;
}

/**
 * The spill journal of one logger: appends batches that cannot go to the database now, and hands them
 * back in order, entry by entry, once it can; also claims and replays journals that processes which are
 * gone left behind (see `Journal`).
 */
export class Spill {
  private readonly journal: Journal;
  private readonly heartbeat: Heartbeat;
  /** Every batch goes here before it is sent (null when `writeAhead` is off). */
  readonly writeAhead: WriteAhead | null;
  /** Replay position in this process's journal. */
  private offset = 0;
  private orphans: string[] = [];
  /** Appends, replays and the close take turns: a replay that empties the journal must not cut off an append. */
  private turn: Promise<unknown> = Promise.resolve();

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.turn.then(work);
    this.turn = result.catch(() => {});
    return result;
  }

  constructor(
    dir: string,
    namespace: string,
    private readonly maxBytes: number,
    staleMs: number,
    writeAheadSyncMs: number | null,
    onError: (err: unknown, problem: string) => void,
  ) {
    this.heartbeat = new Heartbeat(Math.max(50, Math.floor(staleMs / 4)), (err, path) =>
      onError(err, `cannot keep ${path} marked as in use (another process may take it over and replay it too; replays are idempotent)`),
    );
    this.journal = new Journal(dir, namespace, staleMs, this.heartbeat);
    this.writeAhead = writeAheadSyncMs === null ? null : new WriteAhead(dir, namespace, writeAheadSyncMs, this.heartbeat, onError);
  }

  /** Bytes in this process's journal. */
  get bytes(): number {
    return this.journal.size;
  }

  /** Whether anything on disk waits to be written to the database. */
  get pending(): boolean {
    return this.orphans.length > 0 || this.offset < this.journal.size;
  }

  hasRoom(): boolean {
    return this.journal.size < this.maxBytes;
  }

  async append(records: readonly InferenceRecord[]): Promise<void> {
    await this.exclusive(() => this.journal.append(records));
  }

  /** Takes over the journals of processes that are gone; they are replayed first. Returns how many were claimed. */
  async claimOrphans(): Promise<number> {
    const claimed = await this.journal.orphans();
    this.orphans.push(...claimed);
    return claimed.length;
  }

  /** Writes the next piece of the journal (a whole orphan file, or one entry of ours) with `write`. */
  replayNext(write: (records: InferenceRecord[]) => Promise<void>): Promise<Replayed | null> {
    return this.exclusive(() => this.replayOne(write));
  }

  private async replayOne(write: (records: InferenceRecord[]) => Promise<void>): Promise<Replayed | null> {
    const orphan = this.orphans[0];
    if (orphan) {
      const result = await replayFile(orphan, write);
      this.orphans.shift();
      this.heartbeat.release(orphan);
      return { ...(result ?? { records: 0, tornBytes: 0, damagedBytes: 0, keptAt: null, notKept: null }), source: orphan };
    }
    if (this.offset >= this.journal.size) return null;
    const entry = await this.journal.readAt(this.offset);
    const replayed: Replayed = { records: 0, tornBytes: 0, damagedBytes: 0, keptAt: null, notKept: null, source: this.journal.path };
    if (entry && 'damaged' in entry) {
      replayed.damagedBytes = entry.damaged.length;
      await keepDamaged(this.journal.path, entry.damaged, replayed);
      this.offset = entry.end;
    } else if (entry) {
      await write(entry.records);
      this.offset = entry.end;
      replayed.records = entry.records.length;
    } else {
      replayed.tornBytes = this.journal.size - this.offset;
      this.offset = this.journal.size;
    }
    if (this.offset >= this.journal.size) {
      await this.journal.clear();
      this.offset = 0;
    }
    return replayed;
  }

  /**
   * Closes the journals; a non-empty one, write-ahead segments whose batches are not stored, and orphans
   * claimed but not replayed stay on disk for the next process.
   */
  async close(): Promise<void> {
    await this.writeAhead?.close();
    await this.exclusive(() => this.journal.close());
    this.heartbeat.stop();
  }
}
