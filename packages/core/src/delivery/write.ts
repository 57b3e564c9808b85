import type { Chain } from '../chain/chain';
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
  lost: { records: InferenceRecord[]; reason: string } | null;
}

/**
 * Writes a batch of records sealed by `chain` (the chain's newest), in order. When PostgreSQL refuses
 * part of it for a data reason, that part is halved until the refused rows are isolated: the good rows
 * land, each bad one is stored without its payload (the reason in `schema_errors`) and the rows after it
 * are relinked, so the hash chain stays whole; one refused even so is left out and the chain closes up
 * behind it. The batch array is changed in place, so a retry after a connection failure writes what was
 * decided. Connection failures are thrown for the caller to retry; nothing loops forever.
 */
export async function writeIsolatingBadRows(sink: RecordSink, records: InferenceRecord[], chain: Chain): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { stored: 0, stripped: 0, lost: null };
  /** Writes records[from, to); returns how many it removed (the caller's later indexes shift by that). */
  const write = async (from: number, to: number): Promise<number> => {
    try {
      await sink.insert(records.slice(from, to));
      outcome.stored += to - from;
      return 0;
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (to - from > 1) {
        const middle = (from + to) >> 1;
        const removed = await write(from, middle);
        return removed + (await write(middle - removed, to - removed));
      }
      const bad = records[from]!;
      const base = { seq: bad.chain_seq! - 1, hash: bad.prev_hash ?? null };
      records[from] = strippedRecord(bad, err);
      chain.relink(records, from, base);
      try {
        await sink.insert([records[from]]);
        outcome.stripped++;
        return 0;
      } catch (again) {
        if (!isDataError(again)) throw again;
        records.splice(from, 1);
        chain.relink(records, from, base);
        outcome.lost = {
          records: [...(outcome.lost?.records ?? []), bad],
          reason: `PostgreSQL refused record ${bad.id} even without its payload: ${(again as Error).message}`,
        };
        return 1;
      }
    }
  };
  await write(0, records.length);
  return outcome;
}
