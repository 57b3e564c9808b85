import type { Writable } from 'node:stream';
import type { InferenceRecord } from '../record/record';
import { toCopyText } from './copy-text';

/** Rows per slice of COPY text: about 100 KiB of a typical record, enough to keep the connection busy. */
export const COPY_SLICE_ROWS = 100;

/**
 * Sends the records' COPY text into a COPY FROM STDIN stream a slice at a time, each made once the
 * connection took the one before: PostgreSQL stores the first rows while the next are formatted (made
 * whole first, formatting and storing took turns). Settles once: resolved when the stream finishes,
 * rejected at its first error or when a slice cannot be made. Nothing is written after that: the
 * stream of a failed COPY has no connection any more, and a write there would throw out of an event.
 */
export function sendCopy(stream: Writable, records: readonly InferenceRecord[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    let next = 0;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      stream.off('drain', more);
      reject(err);
    };
    function more(): void {
      if (failed) return;
      try {
        while (next < records.length) {
          const slice = toCopyText(records.slice(next, next + COPY_SLICE_ROWS));
          next += COPY_SLICE_ROWS;
          if (!stream.write(slice)) {
            stream.once('drain', more);
            return;
          }
        }
        stream.end();
      } catch (err) {
        // The connection is dropped by the caller (an error that is not the server's): the COPY ends with it.
        fail(err);
      }
    }
    stream.on('error', fail);
    stream.once('finish', () => {
      if (!failed) resolve();
    });
    more();
  });
}
