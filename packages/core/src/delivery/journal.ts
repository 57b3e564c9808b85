import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { strippedRecord } from '../record/fallback';
import type { InferenceRecord } from '../record/record';

// One entry per spilled batch: [u32 LE payload length][32-byte SHA-256 of the payload][payload: JSON
// array of records]. An entry is appended and fsynced before the batch leaves memory; a crash can only
// tear the last entry, which the length and checksum reveal, so earlier entries are never lost.
const HEADER_BYTES = 4 + 32;

export interface JournalEntry {
  records: InferenceRecord[];
  /** Offset just past this entry. */
  end: number;
}

/** The records as a JSON array; a record JSON cannot hold (it should never happen) goes in without its payload. */
function recordsJson(records: readonly InferenceRecord[]): string {
  try {
    return JSON.stringify(records);
  } catch {
    return `[${records.map((record) => {
      try {
        return JSON.stringify(record);
      } catch (err) {
        return JSON.stringify(strippedRecord(record, err));
      }
    })}]`;
  }
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
 * The entry at `offset` of an open journal of `size` bytes; null at the end, and null for a torn or
 * corrupt entry (short, or failing its checksum), after which nothing is read.
 */
export async function readEntry(handle: fs.FileHandle, offset: number, size: number): Promise<JournalEntry | null> {
  if (offset + HEADER_BYTES > size) return null;
  const header = Buffer.alloc(HEADER_BYTES);
  await handle.read(header, 0, HEADER_BYTES, offset);
  const length = header.readUInt32LE(0);
  const end = offset + HEADER_BYTES + length;
  if (end > size) return null;
  const payload = Buffer.alloc(length);
  await handle.read(payload, 0, length, offset + HEADER_BYTES);
  if (!createHash('sha256').update(payload).digest().equals(header.subarray(4))) return null;
  try {
    return { records: revive(JSON.parse(payload.toString('utf8')) as InferenceRecord[]), end };
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * This process's append-only spill journal in `dir`, created on the first append. Journals left by
 * processes that are no longer running are claimed (renamed, so two processes never replay the same one)
 * and replayed by `orphans()`.
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
  ) {
    this.path = join(dir, `inferlog-${namespace}-${process.pid}-${randomBytes(4).toString('hex')}.journal`);
    this.pattern = new RegExp(`^inferlog-${namespace.replace('.', '\\.')}-(\\d+)-[0-9a-f]+\\.(journal|replay)$`);
  }

  async append(records: readonly InferenceRecord[]): Promise<number> {
    const entry = encodeEntry(records);
    if (!this.handle) {
      await fs.mkdir(this.dir, { recursive: true });
      this.handle = await fs.open(this.path, 'a+');
    }
    await this.handle.write(entry);
    await this.handle.datasync();
    this.size += entry.length;
    return entry.length;
  }

  /** The entry of this process's journal at `offset` (null at the end or at a torn entry). */
  async readAt(offset: number): Promise<JournalEntry | null> {
    return this.handle ? readEntry(this.handle, offset, this.size) : null;
  }

  /** Empties the journal once everything in it is stored. */
  async clear(): Promise<void> {
    if (!this.handle) return;
    await this.handle.truncate(0);
    await this.handle.datasync();
    this.size = 0;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
    if (this.size === 0) await fs.rm(this.path, { force: true });
  }

  /** Claims the journals of processes that are gone: paths renamed to this process's name space. */
  async orphans(): Promise<string[]> {
    let files: string[];
    try {
      files = await fs.readdir(this.dir);
    } catch {
      return [];
    }
    const claimed: string[] = [];
    for (const file of files.sort()) {
      const found = this.pattern.exec(file);
      if (!found || isAlive(Number(found[1]))) continue;
      const target = join(this.dir, `inferlog-${this.namespace}-${process.pid}-${randomBytes(4).toString('hex')}.replay`);
      try {
        await fs.rename(join(this.dir, file), target);
        claimed.push(target);
      } catch {
        // another process claimed it first
      }
    }
    return claimed;
  }
}
