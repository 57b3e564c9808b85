import type { InferenceRecord } from '../record/record';
import { Journal } from './journal';
import { replayFile } from './replay';

export interface Replayed {
  records: number;
  /** Bytes of a torn or corrupt tail that were skipped. */
  tornBytes: number;
  source: string;
}

/**
 * The spill journal of one logger: appends batches that cannot go to the database now, and hands them
 * back in order, entry by entry, once it can; also replays journals that crashed processes left behind.
 */
export class Spill {
  private readonly journal: Journal;
  /** Replay position in this process's journal. */
  private offset = 0;
  private orphans: string[] = [];

  constructor(dir: string, namespace: string, private readonly maxBytes: number) {
    this.journal = new Journal(dir, namespace);
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
    await this.journal.append(records);
  }

  /** Takes over the journals of processes that are gone; they are replayed first. */
  async claimOrphans(): Promise<void> {
    this.orphans.push(...(await this.journal.orphans()));
  }

  /** Writes the next piece of the journal (a whole orphan file, or one entry of ours) with `write`. */
  async replayNext(write: (records: InferenceRecord[]) => Promise<void>): Promise<Replayed | null> {
    const orphan = this.orphans[0];
    if (orphan) {
      const result = await replayFile(orphan, write);
      this.orphans.shift();
      return { ...result, source: orphan };
    }
    if (this.offset >= this.journal.size) return null;
    const entry = await this.journal.readAt(this.offset);
    let replayed: Replayed;
    if (entry) {
      await write(entry.records);
      this.offset = entry.end;
      replayed = { records: entry.records.length, tornBytes: 0, source: this.journal.path };
    } else {
      replayed = { records: 0, tornBytes: this.journal.size - this.offset, source: this.journal.path };
      this.offset = this.journal.size;
    }
    if (this.offset >= this.journal.size) {
      await this.journal.clear();
      this.offset = 0;
    }
    return replayed;
  }

  /** Closes the journal; a non-empty one stays on disk for the next process to replay. */
  async close(): Promise<void> {
    await this.journal.close();
  }
}
