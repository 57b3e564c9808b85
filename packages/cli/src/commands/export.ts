import { SingleBar } from 'cli-progress';
import { countRecords, exportLog, EXPORT_FORMATS, type ExportFormat } from '@inferlog/core/audit';
import { Option } from 'commander';
import { act, type CommandModule } from '../context';
import { withLog } from '../database';
import { interruption } from '../io';
import { addFilterOptions, addLogOptions, filterOf, logOptionsOf, type CommonOptions, type FilterOptions } from '../options';
import { bytes, count, print, printJson } from '../output';

interface ExportOptions extends CommonOptions, FilterOptions {
  format: ExportFormat | 'parquet';
  out: string;
}

/** `inferlog export`: records to a JSONL or CSV file with a manifest an auditor can verify offline, or a parquet dataset for retraining. */
export const exportCommand: CommandModule = (program, ctx) => {
  addLogOptions(
    addFilterOptions(
      program
        .command('export')
        .summary(
          'export records (JSONL or CSV) and their oversight events (JSONL) with a manifest that verify --bundle checks offline, or a parquet dataset for retraining',
        )
        .description(
          'Streams the records that match the filters to --out (constant memory on any number of rows), in chain order, each row ' +
            'with every column in the canonical form and its record_hash, and writes FILE.manifest.json beside it: format, file ' +
            'name, bytes, rows, SHA-256 of the file, filters, export time, inferlog version, and per chain the first and last seq, ' +
            'last hash and rows. The oversight events about the exported records (subject = their id or request id), read in the ' +
            'same snapshot, go to FILE.events.jsonl (JSONL, whatever --format), counted in the manifest per chain like the records, ' +
            "and the manifest records each chain's registration (kind, start, host, pid, service, head), which verify --against " +
            'holds the database to. "inferlog verify --bundle FILE.manifest.json" then checks the files without the database. ' +
            'CSV: one column per record column, jsonb and text[] as JSON text, RFC 4180 quoting, NULL as an empty unquoted field. ' +
            '--format parquet writes a dataset for retraining, not evidence (verify --bundle refuses it): one row per record in ' +
            'started_at order with id, request_id, started_at, model_name, model_version, route, protocol, status, latency_ms and ' +
            'schema_error_count; each numeric tensor (BOOL, INT, UINT, FP) with the same 1 to 64 elements per sample in every row as ' +
            'one DOUBLE column per element, inputs.<name>[<i>] / outputs.<name>[<i>], of the first sample of a batch; any other ' +
            "tensor as one text column inputs.<name> / outputs.<name> (a BYTES element's text, else the JSON of its data); and " +
            'ground_truth, the JSON of data.label of the latest ground_truth oversight event about the record, with ground_truth_at. ' +
            'FILE.manifest.json gives its rows, bytes, SHA-256, filters and columns; no events file.',
        )
        .addOption(new Option('--format <format>', 'file format').choices([...EXPORT_FORMATS, 'parquet']).default('jsonl'))
        .requiredOption('--out <file>', 'the file to write (replaced if it exists); the manifest goes to <file>.manifest.json'),
      { requiredSince: true, untilDefault: 'the moment the export starts, which the manifest records' },
    ),
  ).action(
    act(ctx, async (opts: ExportOptions) =>
      withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const started = Date.now();
        // The manifest states the range it covers: without --until, up to the moment the export started.
        const filter = filterOf(opts);
        filter.until ??= new Date(started);
        // The bar is for a person watching: only on a terminal, never in a pipe or a log file.
        const bar = ctx.io.stderr.isTTY
          ? new SingleBar({
              stream: ctx.io.stderr,
              format: 'export |{bar}| {percentage}% {value}/{total} rows | {eta_formatted} left',
              etaBuffer: 50,
              clearOnComplete: true,
              hideCursor: true,
            })
          : null;
        if (bar) bar.start(await countRecords(log.db, log.schema, log.table, filter), 0);
        const { signal, release } = interruption(ctx.io);
        try {
          const common = { out: opts.out, filter, signal, onProgress: (rows: number) => bar?.update(rows) };
          if (opts.format === 'parquet') {
            const result = await exportLog(log.db, log.schema, log.table, { format: 'parquet', ...common });
            bar?.stop();
            if (opts.json) return printJson(ctx.io, result);
            const m = result.manifest;
            const tensors = m.columns.filter((c) => c.name.startsWith('inputs.') || c.name.startsWith('outputs.')).length;
            print(
              ctx.io,
              `exported ${count(m.rows)} records as a parquet dataset of ${count(m.columns.length)} columns (${count(tensors)} from tensors) in ${count(m.row_groups)} row group${m.row_groups === 1 ? '' : 's'} (${bytes(m.bytes)}) from ${log.schema}.${log.table} to ${result.file} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
            );
            print(
              ctx.io,
              `labelled ${count(m.ground_truth_rows)} of them with a ground truth (a ground_truth oversight event with data.label)`,
            );
            print(ctx.io, `sha256   ${m.sha256}`);
            print(ctx.io, `manifest ${result.manifestPath}`);
            print(ctx.io, 'a dataset for retraining, not evidence: verify --bundle refuses it; export jsonl or csv for evidence');
            return;
          }
          const result = await exportLog(log.db, log.schema, log.table, { format: opts.format, ...common });
          bar?.stop();
          if (opts.json) return printJson(ctx.io, result);
          const m = result.manifest;
          print(
            ctx.io,
            `exported ${count(m.rows)} records (${bytes(m.bytes)}) from ${log.schema}.${log.table} to ${result.file} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
          print(ctx.io, `sha256   ${m.sha256}`);
          const events = m.events!;
          print(
            ctx.io,
            `events   ${result.eventsFile}: ${count(events.rows)} oversight events about these records, sha256 ${events.sha256}`,
          );
          print(ctx.io, `manifest ${result.manifestPath} (${m.chains.length} chain${m.chains.length === 1 ? '' : 's'})`);
          print(ctx.io, `check it with: inferlog verify --bundle ${result.manifestPath}`);
        } finally {
          bar?.stop();
          release();
        }
      }),
    ),
  );
};
