import { promises as fs } from 'node:fs';
import type { InferenceRecord } from '../record/record';
import { readEntry } from './journal';

export interface ReplayResult {
  records: number;
  /** Bytes at the end that did not form a whole, valid entry (a write torn by a crash). */
  tornBytes: number;
}

/**
 * Writes every entry of a journal file left by an earlier process, in order, then deletes the file.
 * A torn tail is skipped (reported in the result); entries before it are all written.
 */
export async function replayFile(path: string, write: (records: InferenceRecord[]) => Promise<void>): Promise<ReplayResult> {
  const handle = await fs.open(path, 'r');
  let offset = 0;
  let records = 0;
  let size = 0;
  try {
    size = (await handle.stat()).size;
    for (let entry = await readEntry(handle, 0, size); entry; entry = await readEntry(handle, offset, size)) {
      await write(entry.records);
      records += entry.records.length;
      offset = entry.end;
    }
  } finally {
    await handle.close();
  }
  await fs.rm(path, { force: true });
  return { records, tornBytes: size - offset };
}
