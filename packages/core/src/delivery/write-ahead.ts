import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { InferenceRecord } from '../record/record';
import type { Heartbeat } from './heartbeat';
import { appendEntry, encodeEntry } from './journal';

/** A file of the write-ahead journal: entries of batches, each removed from the count once its batch is stored. */
interface Segment {
  path: string;
  handle: fs.FileHandle;
  /** Bytes of whole entries. */
  size: number;
  /** Batches in it that are neither stored nor spilled yet. */
  pending: number;
  /** Full: no more appends; removed once nothing in it is pending. */
  sealed: boolean;
  /** Written since its last fdatasync. */
  dirty: boolean;
}

/** Where a batch sits in the write-ahead journal; handed back to `done` once the batch is stored or spilled. */
export interface WriteAheadTicket {
  readonly segment: Segment;
}

/** A segment is sealed (and a new one started) past this size, so a file can be removed while appends go on. */
const SEGMENT_BYTES = 8 * 1024 * 1024;

/**
 * The write-ahead journal: every batch is appended here before it is sent to the database, and marked
 * done once it is stored (or spilled to the spill journal). A process that is killed leaves its segments
 * behind with whatever was not done; they are files of the spill journal's format (`.wal`), taken over
 * and replayed by the next process like any orphaned journal — idempotently, since a batch may have been
 * committed just before the kill. A segment whose batches are all done is emptied (the open one) or
 * removed (a sealed one), so the files stay about as large as what is in flight.
 *
 * Appends are written, not synced: a killed process's writes are in the kernel and survive it. Against a
 * machine crash the segments are forced to disk (fdatasync) every `syncMs`, or before each batch is sent
 * when `syncMs` is 0.
 */
export class WriteAhead {
  private current: Segment | null = null;
  private readonly segments = new Set<Segment>();
  private readonly syncTimer: NodeJS.Timeout | null = null;
  private syncing = false;
  /** Appends, emptying and removal take turns, so an emptied file never cuts off an append. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly namespace: string,
    private readonly syncMs: number,
    private readonly heartbeat: Heartbeat,
    private readonly onError: (err: unknown, problem: string) => void,
  ) {
    if (syncMs > 0) {
      this.syncTimer = setInterval(() => {
        if (this.syncing) return;
        this.syncing = true;
        void this.exclusive(() => this.syncDirty()).finally(() => {
          this.syncing = false;
        });
      }, syncMs).unref();
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.turn.then(work);
    this.turn = result.catch(() => {});
    return result;
  }

  /** Bytes of entries in the segments on disk. */
  get bytes(): number {
    let bytes = 0;
    for (const segment of this.segments) bytes += segment.size;
    return bytes;
  }

  /** Appends a batch; rejects (the batch is then sent without it) when the disk cannot take it. */
  append(records: readonly InferenceRecord[]): Promise<WriteAheadTicket> {
    const entry = encodeEntry(records);
    return this.exclusive(async () => {
      const segment = this.current ?? (await this.open());
      await appendEntry(segment.handle, segment.path, segment.size, entry, this.syncMs === 0);
      if (this.syncMs > 0) segment.dirty = true;
      segment.size += entry.length;
      segment.pending++;
      if (segment.size >= SEGMENT_BYTES) {
        segment.sealed = true;
        this.current = null;
      }
      return { segment };
    });
  }

  /** The batch is stored or spilled: its entry need not be replayed. */
  done(ticket: WriteAheadTicket): void {
    const { segment } = ticket;
    segment.pending--;
    if (segment.pending > 0) return;
    void this.exclusive(async () => {
      if (segment.pending > 0 || !this.segments.has(segment)) return;
      try {
        if (segment.sealed) {
          await this.remove(segment);
        } else {
          await segment.handle.truncate(0);
          segment.size = 0;
          segment.dirty = false;
        }
      } catch (err) {
        // Left as it is, it is replayed (idempotently) by the next process: wasted work, nothing lost.
        this.onError(err, `cannot empty or remove the write-ahead journal ${segment.path}`);
      }
    });
  }

  /**
   * Closes the journal. Segments with batches not done (a write still in flight at the close deadline)
   * are synced and left for the next process to replay; the rest are removed.
   */
  close(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    return this.exclusive(async () => {
      this.current = null;
      for (const segment of [...this.segments]) {
        if (segment.pending === 0) {
          await this.remove(segment);
        } else {
          await segment.handle.datasync().catch(() => {});
          await segment.handle.close();
          this.heartbeat.release(segment.path);
          this.segments.delete(segment);
        }
      }
    });
  }

  private async open(): Promise<Segment> {
    await fs.mkdir(this.dir, { recursive: true });
    const path = join(this.dir, `inferlog-${this.namespace}-${process.pid}-${randomBytes(4).toString('hex')}.wal`);
    const handle = await fs.open(path, 'a+');
    const segment: Segment = { path, handle, size: 0, pending: 0, sealed: false, dirty: false };
    this.segments.add(segment);
    this.current = segment;
    await this.heartbeat.keep(path);
    return segment;
  }

  private async remove(segment: Segment): Promise<void> {
    this.segments.delete(segment);
    if (this.current === segment) this.current = null;
    this.heartbeat.release(segment.path);
    await segment.handle.close();
    await fs.rm(segment.path, { force: true });
  }

  private async syncDirty(): Promise<void> {
    for (const segment of this.segments) {
      if (!segment.dirty) continue;
      segment.dirty = false;
      await segment.handle.datasync().catch((err) => {
        segment.dirty = true;
        this.onError(err, `cannot sync the write-ahead journal ${segment.path} to disk (a machine crash may lose what it holds)`);
      });
    }
  }
}
