import { rename, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InferlogConfigError } from '../errors';
import { logTableNames } from '../sink/names';
import type { Database } from '../sink/pgp';
import { VERSION } from '../version';
import { forEachRowIn, inSnapshot, type Snapshot } from './cursor';
import { HashingWriter } from './export-file';
import { describeFilter, filterSql, type RecordFilter } from './filter';
import { DATASET_NOT_EVIDENCE, manifestPath, type DatasetManifest } from './manifest';
import {
  datasetValues,
  parquetColumns,
  TensorPlanner,
  type DatasetRow,
  type ParquetColumn,
  type TensorPlan,
  type TensorSide,
} from './parquet-columns';

/** Options of `exportLog` for a parquet dataset (`format: 'parquet'`). */
export interface ParquetExportOptions {
  format: 'parquet';
  /** The parquet file to write; the manifest goes to `<out>.manifest.json`. Both are replaced if they exist. */
  out: string;
  /** Which records (all when empty): the same filters as the other formats. */
  filter?: RecordFilter;
  /** Called after each batch with the rows read and the bytes written so far. */
  onProgress?: (rows: number, bytes: number) => void;
  /** Bytes of rows aimed at per database fetch (judged by the stored size of their tensors). Default 512 KiB. */
  fetchBytes?: number;
  /**
   * Rows per row group, at most: a group is written, and its memory released, when it has this many
   * rows or about 64 MiB of values, whichever comes first. Default 10,000; 1 to 1,000,000.
   */
  rowGroupRows?: number;
  /** Stops the export (Ctrl-C): it rejects, and the partial file is removed. */
  signal?: AbortSignal;
}

/** What `exportLog` wrote for a parquet dataset. */
export interface ParquetExportResult {
  file: string;
  manifestPath: string;
  manifest: DatasetManifest;
}

/** Values (string lengths, 8 bytes a number) a row group holds at most before it is written. */
const ROW_GROUP_BYTES = 64 * 1024 * 1024;

/** `timestamptz` as microseconds since 1970, exactly (EXTRACT gives numeric since PostgreSQL 14), as bigint text. */
const micros = (column: string) => `(EXTRACT(EPOCH FROM ${column}) * 1000000)::bigint`;

/**
 * Exports the records that match the filter as a parquet dataset for retraining: one row per record in
 * `started_at` order, the record's columns, each tensor flattened to DOUBLE columns or as text (see
 * parquet-columns.ts), and the label of the latest `ground_truth` oversight event about it. Reads in one
 * snapshot, twice, through server-side cursors: first the distinct tensor names, datatypes and shapes
 * (which decide the columns), then the rows, written a row group at a time (`rowGroupRows`), so memory
 * stays bounded however many rows there are. The file is written as `.partial` and renamed when
 * complete; `<out>.manifest.json` (a `DatasetManifest`: rows, bytes, SHA-256, filters, columns) last.
 * A dataset is not evidence: `verify --bundle` refuses its manifest.
 */
export function exportParquet(db: Database, schema: string, table: string, options: ParquetExportOptions): Promise<ParquetExportResult> {
  const rowGroupRows = options.rowGroupRows ?? 10_000;
  if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1 || rowGroupRows > 1_000_000)
    throw new InferlogConfigError(`rowGroupRows must be a whole number from 1 to 1000000; got ${rowGroupRows}`);
  return inSnapshot(db, (t) => exportParquetIn(t, schema, table, { ...options, rowGroupRows }));
}

async function exportParquetIn(
  t: Snapshot,
  schema: string,
  table: string,
  options: ParquetExportOptions & { rowGroupRows: number },
): Promise<ParquetExportResult> {
  const filter = options.filter ?? {};
  const where = filterSql(filter);
  const exportedAt = new Date();
  const plans = await planTensors(t, schema, table, where);
  const columns = parquetColumns(plans);
  const partial = `${options.out}.partial`;
  const out = new HashingWriter(partial);
  let written: { rows: number; labelled: number; rowGroups: number };
  try {
    written = await writeDataset(t, schema, table, where, plans, columns, out, options, exportedAt);
    await out.close();
  } catch (err) {
    out.destroy();
    await rm(partial, { force: true });
    throw err;
  }
  const path = manifestPath(options.out);
  // A manifest left by an earlier export to the same name must not describe the new file, even for a moment.
  await rm(path, { force: true });
  await rename(partial, options.out);
  const manifest: DatasetManifest = {
    manifest_version: 1,
    kind: 'dataset',
    format: 'parquet',
    note: DATASET_NOT_EVIDENCE,
    file: basename(options.out),
    bytes: out.bytes,
    rows: written.rows,
    ground_truth_rows: written.labelled,
    row_groups: written.rowGroups,
    sha256: out.hash.digest('hex'),
    filters: describeFilter(filter),
    exported_at: exportedAt.toISOString(),
    inferlog_version: VERSION,
    source: { schema, table },
    order: 'started_at, id',
    columns,
  };
  await writeFile(`${path}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${path}.partial`, path);
  return { file: options.out, manifestPath: path, manifest };
}

/**
 * The first pass: the distinct (side, name, datatype, shape) of the tensors of the selected rows, with
 * their smallest position in a record's list, deduplicated by the database and streamed to the planner.
 */
async function planTensors(t: Snapshot, schema: string, table: string, where: string): Promise<TensorPlan[]> {
  const planner = new TensorPlanner();
  await forEachRowIn(
    t,
    `SELECT s.side, x.tensor -> 'name' AS name, x.tensor -> 'datatype' AS datatype, x.tensor -> 'shape' AS shape, min(x.position) AS position
       FROM $1:name.$2:name l
       CROSS JOIN LATERAL (VALUES ('inputs', l.inputs), ('outputs', l.outputs)) AS s (side, tensors)
       CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(s.tensors) = 'array' THEN s.tensors ELSE '[]'::jsonb END)
         WITH ORDINALITY AS x (tensor, position)
      WHERE $3:raw
      GROUP BY 1, 2, 3, 4`,
    [schema, table, where],
    (rows) => {
      for (const r of rows) planner.add(r.side as TensorSide, r.name, r.datatype, r.shape, Number(r.position));
    },
    5000,
  );
  return planner.plan();
}

/** The columns of one row group, filled row by row. */
class RowGroup {
  rows = 0;
  bytes = 0;
  readonly data: unknown[][];

  constructor(width: number) {
    this.data = Array.from({ length: width }, () => []);
  }

  add(values: readonly unknown[]): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      this.data[i]!.push(v);
      this.bytes += typeof v === 'string' ? v.length : 8;
    }
    this.rows++;
  }
}

type ParquetWriterModule = typeof import('hyparquet-writer', { with: { 'resolution-mode': 'import' }});
type SchemaElement = ConstructorParameters<ParquetWriterModule['ParquetWriter']>[0]['schema'][number];

function schemaElement({ name, type, nullable }: ParquetColumn): SchemaElement {
  const repetition_type = nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (type) {
    case 'STRING':
      return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type };
    case 'TIMESTAMP':
      return {
        name,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MICROS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
        repetition_type,
      };
    default:
      return { name, type, repetition_type };
  }
}

/**
 * The second pass: the rows in (started_at, id) order with the latest ground_truth event of each (by
 * id or request id, latest created_at then id), written one row group at a time through hyparquet-writer's
 * `ParquetWriter` into `out`, which hashes and writes each group's bytes before the next is read.
 */
async function writeDataset(
  t: Snapshot,
  schema: string,
  table: string,
  where: string,
  plans: readonly TensorPlan[],
  columns: readonly ParquetColumn[],
  out: HashingWriter,
  options: ParquetExportOptions & { rowGroupRows: number },
  exportedAt: Date,
): Promise<{ rows: number; labelled: number; rowGroups: number }> {
  // An ES module: loaded when a dataset is written (the CLI starts without it).
  const { ByteWriter, ParquetWriter } = await import('hyparquet-writer');
  /** hyparquet-writer's buffer, handed to the file after each row group and at the end, then reused. */
  class FileBytes extends ByteWriter {
    constructor() {
      super(1024 * 1024);
    }
    flush(): Promise<void> {
      const bytes = Buffer.from(this.getBytes());
      this.index = 0;
      return out.write(bytes);
    }
    override finish(): Promise<void> {
      return this.flush();
    }
  }
  const writer = new ParquetWriter({
    writer: new FileBytes(),
    schema: [{ name: 'schema', num_children: columns.length }, ...columns.map(schemaElement)],
    createdBy: `inferlog version ${VERSION}`,
    kvMetadata: [
      {
        key: 'inferlog.dataset',
        value: JSON.stringify({
          note: DATASET_NOT_EVIDENCE,
          filters: describeFilter(options.filter ?? {}),
          exported_at: exportedAt.toISOString(),
        }),
      },
    ],
  });
  let group = new RowGroup(columns.length);
  let rows = 0;
  let rowGroups = 0;
  let labelled = 0;
  let fetched = 0;
  let fetchedBytes = 0;
  const writeGroup = async () => {
    if (group.rows === 0) return;
    const columnData = columns.map((c, i) => ({ name: c.name, data: group.data[i]! }));
    const rowsInGroup = group.rows;
    group = new RowGroup(columns.length);
    await writer.write({ columnData, rowGroupSize: rowsInGroup });
    rowGroups++;
  };
  const fetchBytes = options.fetchBytes ?? 512 * 1024;
  const batchSize = () =>
    fetched === 0 ? 100 : Math.min(5000, Math.max(10, Math.round(fetchBytes / Math.max(1, fetchedBytes / fetched))));
  const events = logTableNames(schema, table).events;
  await forEachRowIn(
    t,
    `SELECT l.id, l.request_id, ${micros('l.started_at')}::text AS started_us, l.model_name, l.model_version, l.route, l.protocol,
            l.status, l.latency_ms,
            CASE WHEN jsonb_typeof(l.schema_errors) = 'array' THEN jsonb_array_length(l.schema_errors) ELSE 0 END AS schema_error_count,
            l.inputs, l.outputs, coalesce(pg_column_size(l.inputs), 0) + coalesce(pg_column_size(l.outputs), 0) AS stored_bytes,
            g.label AS ground_truth, ${micros('g.created_at')}::text AS ground_truth_us
       FROM $1:name.$2:name l
       LEFT JOIN LATERAL (
         SELECT CASE WHEN e.data -> 'label' IS NOT NULL THEN jsonb_build_array(e.data -> 'label') END AS label, e.created_at
           FROM $1:name.$3:name e
          WHERE e.type = 'ground_truth' AND (e.subject = l.request_id OR e.subject = l.id::text)
          ORDER BY e.created_at DESC, e.id DESC
          LIMIT 1
       ) g ON TRUE
      WHERE $4:raw
      ORDER BY l.started_at, l.id`,
    [schema, table, events, where],
    async (batch) => {
      if (options.signal?.aborted) throw new Error(`the export to ${options.out} was interrupted; nothing was kept`);
      for (const row of batch) {
        // The stored size of its tensors, and about as much again for the rest of the row.
        fetchedBytes += 200 + Number(row.stored_bytes);
        if (row.ground_truth !== null) labelled++;
        group.add(datasetValues(row as unknown as DatasetRow, plans));
        if (group.rows >= options.rowGroupRows || group.bytes >= ROW_GROUP_BYTES) await writeGroup();
      }
      fetched += batch.length;
      rows += batch.length;
      options.onProgress?.(rows, out.bytes);
    },
    batchSize,
  );
  await writeGroup();
  await writer.finish();
  return { rows, labelled, rowGroups };
}
