import { rename, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InferlogConfigError } from '../errors';
import type { Database } from '../sink/pgp';
import { VERSION } from '../version';
import { inSnapshot, type Snapshot } from './cursor';
import { readRegistrations, writeEvents } from './export-events';
import { writeRows } from './export-file';
import { exportParquet, type ParquetExportOptions, type ParquetExportResult } from './export-parquet';
import { csvHeader, csvLine, EVENT_EXPORT, EXPORT_COLUMNS, EXPORT_FORMATS, jsonlLine, type ExportFormat } from './export-format';
import { describeFilter, filterSql, type RecordFilter } from './filter';
import { eventsPath, manifestPath, RECORD_HASH_DEFINITION, type ExportManifest, type ManifestRegistration } from './manifest';

/** Options of `exportLog`. */
export interface ExportOptions {
  /** `jsonl` or `csv`: evidence, which `verify --bundle` checks offline. (A parquet dataset takes `ParquetExportOptions`.) */
  format: ExportFormat;
  /** The file to write; the manifest goes to `<out>.manifest.json`. Both are replaced if they exist. */
  out: string;
  /** Which records (all when empty). */
  filter?: RecordFilter;
  /** Called after each batch with the rows and bytes written so far. */
  onProgress?: (rows: number, bytes: number) => void;
  /**
   * Bytes of output aimed at per database fetch: fewer rows per fetch when rows are wide. Default 512 KiB,
   * which measured the lowest peak RSS (less garbage per batch) at no cost in speed.
   */
  fetchBytes?: number;
  /** Stops the export (Ctrl-C): it rejects, and the partial file is removed. */
  signal?: AbortSignal;
}

/** What `exportLog` wrote. */
export interface ExportResult {
  file: string;
  /** The oversight events about the exported records: `<out>.events.jsonl`. */
  eventsFile: string;
  manifestPath: string;
  manifest: ExportManifest;
}

/**
 * Exports the records that match the filter to a JSONL or CSV file, the oversight events about them
 * (subject = a record's id or request_id; without filters, every event) to `<out>.events.jsonl`, and writes the manifest beside them.
 * Records, events and the chain registrations are read through server-side cursors in one snapshot
 * and written with backpressure, so memory stays constant however many rows there are; each file is
 * hashed as it is written. Rows are in chain order (chain_id, chain_seq): each row carries every column
 * in the canonical form and its record_hash, so `verifyBundle` (or anyone, from the definition in the
 * manifest) can recompute every hash and follow every chain from the files alone. The files are
 * written as `.partial` and renamed when complete; the manifest is written last (and an older one of
 * the same name removed first), so a manifest beside the files always describes them.
 *
 * With `format: 'parquet'` it writes a dataset for retraining instead (`ParquetExportOptions`,
 * export-parquet.ts): one row per record in started_at order, tensors flattened to columns, the ground
 * truth from oversight events, and a `DatasetManifest` beside it; no events file. It is not evidence.
 */
export function exportLog(db: Database, schema: string, table: string, options: ParquetExportOptions): Promise<ParquetExportResult>;
export function exportLog(db: Database, schema: string, table: string, options: ExportOptions): Promise<ExportResult>;
export async function exportLog(
  db: Database,
  schema: string,
  table: string,
  options: ExportOptions | ParquetExportOptions,
): Promise<ExportResult | ParquetExportResult> {
  if (options.format === 'parquet') return exportParquet(db, schema, table, options);
  checkFormat(options.format, [...EXPORT_FORMATS, 'parquet']);
  return inSnapshot(db, (t) => exportLogIn(t, schema, table, options));
}

function checkFormat(format: ExportFormat, allowed: readonly string[] = EXPORT_FORMATS): void {
  if (!EXPORT_FORMATS.includes(format)) throw new InferlogConfigError(`format must be one of ${allowed.join(', ')}; got "${format}"`);
}

/**
 * `exportLog` inside a snapshot the caller holds (an evidence report counts, verifies and exports the
 * same rows). The files are renamed into place and the manifest written before it returns, while the
 * snapshot is still open: that costs the transaction a few file operations, not a read.
 */
export async function exportLogIn(t: Snapshot, schema: string, table: string, options: ExportOptions): Promise<ExportResult> {
  checkFormat(options.format);
  const filter = options.filter ?? {};
  const where = filterSql(filter);
  const fetchBytes = options.fetchBytes ?? 512 * 1024;
  const exportedAt = new Date();
  const eventsOut = eventsPath(options.out);
  const records = await writeRows(
    t,
    `SELECT * FROM $1:name.$2:name WHERE $3:raw ORDER BY chain_id NULLS LAST, chain_seq, id`,
    [schema, table, where],
    {
      out: options.out,
      line: options.format === 'csv' ? csvLine : jsonlLine,
      header: options.format === 'csv' ? csvHeader() : undefined,
      fetchBytes,
      signal: options.signal,
      onProgress: options.onProgress,
    },
  );
  let events: Awaited<ReturnType<typeof writeEvents>>;
  let registrations: ManifestRegistration[];
  try {
    const unfiltered = Object.keys(describeFilter(filter)).length === 0;
    events = await writeEvents(t, schema, table, unfiltered ? null : where, { out: eventsOut, fetchBytes, signal: options.signal });
    const chainIds = new Set([...records.chains, ...events.chains].flatMap((c) => (c.chain_id === null ? [] : [c.chain_id])));
    registrations = await readRegistrations(t, schema, table, [...chainIds]);
  } catch (err) {
    await rm(records.partial, { force: true });
    throw err;
  }
  const path = manifestPath(options.out);
  // A manifest left by an earlier export to the same name must not describe the new files, even for a moment.
  await rm(path, { force: true });
  await rename(records.partial, options.out);
  await rename(events.partial, eventsOut);
  const manifest: ExportManifest = {
    manifest_version: 2,
    format: options.format,
    file: basename(options.out),
    bytes: records.bytes,
    rows: records.rows,
    sha256: records.sha256,
    filters: describeFilter(filter),
    exported_at: exportedAt.toISOString(),
    inferlog_version: VERSION,
    source: { schema, table },
    order: 'chain_id, chain_seq',
    columns: [...EXPORT_COLUMNS],
    record_hash: RECORD_HASH_DEFINITION,
    chains: records.chains,
    events: {
      file: basename(eventsOut),
      bytes: events.bytes,
      rows: events.rows,
      sha256: events.sha256,
      columns: [...EVENT_EXPORT.columns],
      chains: events.chains,
    },
    registrations,
  };
  await writeFile(`${path}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${path}.partial`, path);
  return { file: options.out, eventsFile: eventsOut, manifestPath: path, manifest };
}

/** How many records match the filter (for a progress bar's total). */
export async function countRecords(db: Database, schema: string, table: string, filter: RecordFilter = {}): Promise<number> {
  const { n } = await db.one('SELECT count(*) AS n FROM $1:name.$2:name WHERE $3:raw', [schema, table, filterSql(filter)]);
  return Number(n);
}
