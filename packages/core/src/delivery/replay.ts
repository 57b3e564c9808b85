import { promises as fs } from 'node:fs';
import type { InferenceRecord } from '../record/record';
import { keepDamaged, readEntry } from './journal';

export interface ReplayResult {
  records: number;
  /** Bytes at the end that did not form a whole entry (a write torn by a crash). */
  tornBytes: number;
  /** Bytes of whole entries that failed their checksum or did not parse (the disk damaged them). */
  damagedBytes: number;
  /** Where the torn and damaged bytes were kept (`<journal>.damaged`), if there were any. */
  keptAt: string | null;
  /** Why they could not be kept (a full disk): they are lost. */
  notKept: string | null;
}

/**
 * Writes every entry of a journal file left by an earlier process, in order, then deletes the file;
 * null when the file is gone (another process took it).
 * A damaged entry is skipped and the ones after it are still written; a torn tail ends the replay.
 * Nothing unreadable is deleted: those bytes are kept in `<journal>.damaged` and reported.
 */
export async function replayFile(path: string, write: (records: InferenceRecord[]) => Promise<void>): Promise<ReplayResult | null> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (err) {
    // Gone: another process took it over in the instant of the claim, and replays it itself.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const result: ReplayResult = { records: 0, tornBytes: 0, damagedBytes: 0, keptAt: null, notKept: null };
  try {
    const size = (await handle.stat()).size;
    let offset = 0;
    for (let entry = await readEntry(handle, 0, size); entry; entry = await readEntry(handle, offset, size)) {
      if ('damaged' in entry) {
        result.damagedBytes += entry.damaged.length;
        await keepDamaged(path, entry.damaged, result);
      } else {
        await write(entry.records);
        result.records += entry.records.length;
      }
      offset = entry.end;
    }
    result.tornBytes = size - offset;
    if (result.tornBytes > 0) {
      const tail = Buffer.alloc(result.tornBytes);
      await handle.read(tail, 0, tail.length, offset);
      await keepDamaged(path, tail, result);
    }
  } finally {
    await handle.close();
  }
  await fs.rm(path, { force: true });
  return result;
}
