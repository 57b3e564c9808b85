import type { InferenceRecord } from '../record/record';
import { strippedRecord } from '../record/fallback';
import type { RecordSink } from '../sink/postgres-sink';
import { isDataError } from './classify';

export interface WriteOutcome {
  /** Records stored as they were. */
  stored: number;
  /** Records PostgreSQL refused, stored without their payload instead. */
  stripped: number;
  /** Records refused even without their payload: lost, with the reason. */
  lost: { count: number; reason: string } | null;
}

/**
 * Writes a batch. When PostgreSQL refuses it for a data reason, the batch is halved until the refused
 * rows are isolated: the good rows land, each bad one is stored without its payload (the reason in
 * `schema_errors`). Connection failures are thrown for the caller to retry; nothing loops forever.
 */
export async function writeIsolatingBadRows(sink: RecordSink, records: InferenceRecord[]): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { stored: 0, stripped: 0, lost: null };
  const write = async (part: InferenceRecord[]): Promise<void> => {
    try {
      await sink.insert(part);
      outcome.stored += part.length;
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (part.length > 1) {
        const half = part.length >> 1;
        await write(part.slice(0, half));
        await write(part.slice(half));
        return;
      }
      try {
        await sink.insert([strippedRecord(part[0], err)]);
        outcome.stripped++;
      } catch (again) {
        if (!isDataError(again)) throw again;
        outcome.lost = { count: (outcome.lost?.count ?? 0) + 1, reason: `PostgreSQL refused record ${part[0].id} even without its payload: ${(again as Error).message}` };
      }
    }
  };
  await write(records);
  return outcome;
}
