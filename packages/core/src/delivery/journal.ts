import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { journalJson } from '../chain/record-text';
import { strippedRecord } from '../record/fallback';
import type { InferenceRecord } from '../record/record';
import type { Heartbeat } from './heartbeat';

// One entry per spilled batch: [u32 LE payload length][32-byte SHA-256 of the payload][payload: JSON
// array of records]. An entry is appended and fsynced before the batch leaves memory; a crash can only
// tear the last entry, which the length and checksum reveal, so earlier entries are never lost.
const HEADER_BYTES = 4 + 32;

export interface JournalEntry {
  records: InferenceRecord[];
  /** Offset just past this entry. */
  end: number;
}

/** An entry whose length is plausible but whose checksum or JSON is not: skipped, its bytes kept aside. */
export interface DamagedEntry {
  damaged: Buffer;
  end: number;
}

/** The records as a JSON array, each in its canonical text (record-text.ts); a record JSON cannot hold (it should never happen) goes in without its payload. */
function recordsJson(records: readonly InferenceRecord[]): string {
  let out = '[';
  for (let i = 0; i < records.length; i++) {
    let json: string;
    try {
      json = journalJson(records[i] as unknown as Record<string, unknown>);
    } catch (err) {
      json = JSON.stringify(strippedRecord(records[i]!, err));
    }
    out += (i === 0 ? '' : ',') + json;
  }
  return `${out}]`;
}

export function encodeEntry(records: readonly InferenceRecord[]): Buffer {
  const payload = Buffer.from(recordsJson(records));
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  createHash('sha256').update(payload).digest().copy(header, 4);
  return Buffer.concat([header, payload]);
}

function revive(records: InferenceRecord[]): InferenceRecord[] {
  for (const r of records) {
    r.started_at = new Date(r.started_at);
    r.ended_at = new Date(r.ended_at);
  }
  return records;
}

/**
 * The entry at `offset` of an open journal of `size` bytes; null at the end and for a torn tail (an
 * entry that runs past the end: a write cut short), a `DamagedEntry` for one that fits but fails its
 * checksum or does not parse (the entries after it are still read).
 */
export async function readEntry(handle: fs.FileHandle, offset: number, size: number): Promise<JournalEntry | DamagedEntry | null> {
  if (offset + HEADER_BYTES > size) return null;
  const header = Buffer.alloc(HEADER_BYTES);
  await handle.read(header, 0, HEADER_BYTES, offset);
  const length = header.readUInt32LE(0);
  const end = offset + HEADER_BYTES + length;
  if (end > size) return null;
  const payload = Buffer.alloc(length);
  await handle.read(payload, 0, length, offset + HEADER_BYTES);
  const damaged = () => ({ damaged: Buffer.concat([header, payload]), end });
  if (!createHash('sha256').update(payload).digest().equals(header.subarray(4))) return damaged();
  try {
    return { records: revive(JSON.parse(payload.toString('utf8')) as InferenceRecord[]), end };
  } catch {
    return damaged();
  }
}

/**
 * Keeps the bytes of a journal that could not be replayed beside it, as `<journal>.damaged` (never
 * replayed, never deleted by inferlog), and says where in `into.keptAt`. It never throws: when they
 * cannot be written (the disk is full) `into.notKept` says why, and the replay goes on past them
 * rather than stop at them for ever.
 */
export async function keepDamaged(source: string, bytes: Buffer, into: { keptAt: string | null; notKept: string | null }): Promise<void> {
  const path = `${source.replace(/\.(journal|replay|wal)$/, '')}.damaged`;
  try {
    await fs.appendFile(path, bytes);
    into.keptAt = path;
  } catch (err) {
    into.notKept = `${path} could not be written: ${(err as Error).message}`;
  }
}

/**
 * Appends a whole entry to a journal file that holds `size` bytes of whole entries, synced when `sync`.
 * The torn rest of an earlier failed write that could not be cut off then is cut first (or this throws:
 * nothing is appended behind a torn entry). A write cut short (disk full) is cut back — never extended,
 * never zero-filled — and thrown.
 */
export async function appendEntry(handle: fs.FileHandle, path: string, size: number, entry: Buffer, sync: boolean): Promise<void> {
  if ((await handle.stat()).size > size) await handle.truncate(size);
  try {
    const { bytesWritten } = await handle.write(entry);
    if (bytesWritten !== entry.length) {
      throw Object.assign(new Error(`the journal ${path} took ${bytesWritten} of ${entry.length} bytes (is its disk full?)`), {
        code: 'ENOSPC',
      });
    }
    if (sync) await handle.datasync();
  } catch (err) {
    // If this cut fails too, the next append tries it again before it writes.
    await handle.truncate(size).catch(() => {});
    throw err;
  }
}

/**
 * This process's append-only spill journal in `dir`, created on the first append and kept alive by the
 * heartbeat while it is open. Journals nobody has touched for `staleMs` (their process is gone, on this
 * host or another sharing the directory) are claimed (renamed, so two processes do not replay the same
 * one) and replayed by `orphans()`.
 */
export class Journal {
  readonly path: string;
  private handle: fs.FileHandle | null = null;
  /** Bytes in this process's journal file. */
  size = 0;

  /** Journals of one log table: `namespace` (schema.table) keeps another table's records out of its replay. */
  private readonly pattern: RegExp;

  constructor(
    readonly dir: string,
    private readonly namespace: string,
    private readonly staleMs: number,
    private readonly heartbeat: Heartbeat,
  ) {
    this.path = join(dir, `inferlog-${namespace}-${process.pid}-${randomBytes(4).toString('hex')}.journal`);
    this.pattern = new RegExp(`^inferlog-${namespace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)-[0-9a-f]+\\.(journal|replay|wal)$`);
  }

  async append(records: readonly InferenceRecord[]): Promise<number> {
    const entry = encodeEntry(records);
    if (!this.handle) {
      await fs.mkdir(this.dir, { recursive: true });
      this.handle = await fs.open(this.path, 'a+');
      await this.heartbeat.keep(this.path);
    }
    await appendEntry(this.handle, this.path, this.size, entry, true);
    this.size += entry.length;
    return entry.length;
  }

  /** The entry of this process's journal at `offset` (null at the end or at a torn tail). */
  async readAt(offset: number): Promise<JournalEntry | DamagedEntry | null> {
    return this.handle ? readEntry(this.handle, offset, this.size) : null;
  }

  /** Empties the journal once everything in it is stored. */
  async clear(): Promise<void> {
    if (!this.handle) return;
    await this.handle.truncate(0);
    await this.handle.datasync();
    this.size = 0;
  }

  /** Closes the journal: an empty one is removed; a non-empty one stops beating and is claimed by the next process. */
  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    this.heartbeat.release(this.path);
    await handle?.close();
    if (this.size === 0) await fs.rm(this.path, { force: true });
  }

  /** Claims the journals nobody has touched for `staleMs`: renamed into this process's name space and kept alive until replayed. */
  async orphans(): Promise<string[]> {
    let files: string[];
    try {
      files = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const claimed: string[] = [];
    for (const file of files.sort()) {
      const path = join(this.dir, file);
      if (!this.pattern.test(file) || path === this.path || this.heartbeat.owns(path)) continue;
      const stat = await fs.stat(path).catch(() => null);
      if (!stat || Date.now() - stat.mtimeMs < this.staleMs) continue;
      const target = join(this.dir, `inferlog-${this.namespace}-${process.pid}-${randomBytes(4).toString('hex')}.replay`);
      try {
        // Touched before the rename, which keeps the time: the claimed name must never look stale to
        // another process in the instant before this one's heartbeat touches it.
        const now = new Date();
        await fs.utimes(path, now, now);
        await fs.rename(path, target);
      } catch {
        continue; // another process claimed it first
      }
      await this.heartbeat.keep(target);
      claimed.push(target);
    }
    return claimed;
  }
}
