import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { forEachStoredRowIn, type Snapshot } from './cursor';
import type { ManifestChain } from './manifest';
import type { RecordRow } from './rows';

/** Gap ranges listed in a manifest, over all chains; past this the gaps of the chains concerned are not listed. */
const MAX_LISTED_GAPS = 10_000;

/** Follows the chains as rows go by, in (chain_id, chain_seq) order, for the manifest. */
export class ChainTally {
  readonly chains: ManifestChain[] = [];
  private current: ManifestChain | null = null;
  private listedGaps = 0;

  add(row: Pick<RecordRow, 'chain_id' | 'chain_seq' | 'prev_hash' | 'record_hash'>): void {
    let c = this.current;
    if (!c || c.chain_id !== row.chain_id) {
      c = this.current = {
        chain_id: row.chain_id,
        rows: 0,
        first_seq: row.chain_seq,
        first_prev_hash: row.prev_hash,
        last_seq: null,
        last_hash: null,
        gaps: [],
      };
      this.chains.push(c);
    } else if (c.last_seq !== null && row.chain_seq !== null && row.chain_seq > c.last_seq + 1 && c.gaps) {
      if (++this.listedGaps > MAX_LISTED_GAPS) c.gaps = null;
      else c.gaps.push([c.last_seq + 1, row.chain_seq - 1]);
    }
    c.rows++;
    c.last_seq = row.chain_seq;
    c.last_hash = row.record_hash;
  }
}

/** Writes to a file with backpressure, hashing and counting what it writes. */
export class HashingWriter {
  readonly hash = createHash('sha256');
  bytes = 0;
  private readonly stream;
  private failed: Error | null = null;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
    this.stream.on('error', (err) => (this.failed ??= err));
  }

  /** Writes text (as UTF-8) or bytes; resolves when the file can take more. */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.failed) throw this.failed;
    const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  /** Closes the file and makes it durable (fsync) before it is renamed into place. */
  async close(): Promise<void> {
    if (this.failed) throw this.failed;
    this.stream.end();
    await once(this.stream, 'close');
    if (this.failed) throw this.failed;
    const handle = await open(this.path, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  destroy(): void {
    this.stream.destroy();
  }
}

/** One file of an export, written and closed under its `.partial` name. */
export interface WrittenFile {
  /** The `.partial` file, to be renamed into place. */
  partial: string;
  bytes: number;
  rows: number;
  sha256: string;
  chains: ManifestChain[];
}

/** How `writeRows` writes a query's rows. */
export interface WriteRowsOptions {
  /** The file the rows are for; they are written to `<out>.partial`. */
  out: string;
  /** One row as a line of the file. */
  line: (row: Record<string, unknown>) => string;
  /** Written before the rows (a CSV header). */
  header?: string;
  /** Bytes of output aimed at per database fetch. */
  fetchBytes: number;
  signal?: AbortSignal;
  /** Called after each batch with the rows and bytes written so far. */
  onProgress?: (rows: number, bytes: number) => void;
}

/**
 * Writes the rows of `sql` (in chain order) through a server-side cursor in the snapshot `t` to
 * `<out>.partial`, with backpressure, hashing and counting as it goes and following the chains for the
 * manifest: constant memory however many rows. On failure or abort the partial file is removed.
 */
export async function writeRows(t: Snapshot, sql: string, params: unknown[], options: WriteRowsOptions): Promise<WrittenFile> {
  const partial = `${options.out}.partial`;
  const writer = new HashingWriter(partial);
  const tally = new ChainTally();
  let rows = 0;
  // Start small, then fetch as many rows as make about fetchBytes of output, judged by the rows so far.
  const batchSize = () => (rows === 0 ? 100 : Math.min(5000, Math.max(10, Math.round(options.fetchBytes / (writer.bytes / rows)))));
  try {
    if (options.header) await writer.write(options.header);
    await forEachStoredRowIn(
      t,
      sql,
      params,
      async (batch) => {
        if (options.signal?.aborted) throw new Error(`the export to ${options.out} was interrupted; nothing was kept`);
        let chunk = '';
        for (const row of batch) {
          tally.add({
            chain_id: (row.chain_id as string | null) ?? null,
            chain_seq: row.chain_seq === null || row.chain_seq === undefined ? null : Number(row.chain_seq),
            prev_hash: (row.prev_hash as string | null) ?? null,
            record_hash: (row.record_hash as string | null) ?? null,
          });
          chunk += options.line(row);
        }
        await writer.write(chunk);
        rows += batch.length;
        options.onProgress?.(rows, writer.bytes);
      },
      batchSize,
    );
    await writer.close();
  } catch (err) {
    writer.destroy();
    await rm(partial, { force: true });
    throw err;
  }
  return { partial, bytes: writer.bytes, rows, sha256: writer.hash.digest('hex'), chains: tally.chains };
}
