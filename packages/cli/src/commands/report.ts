import { rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { eventsPath, evidenceReport, manifestPath, renderEvidenceReport, type EvidenceReport } from '@inferlog/core/audit';
import { act, type CommandModule } from '../context';
import { withLog } from '../database';
import { CliError, EXIT } from '../errors';
import { interruption } from '../io';
import { addLogOptions, addPeriodOptions, logOptionsOf, type CommonOptions } from '../options';
import { bytes, count, print, printJson } from '../output';

interface ReportOptions extends CommonOptions {
  since: Date;
  until?: Date;
  out: string;
  export?: string;
}

function completenessLine({ completeness: c }: EvidenceReport): string {
  if (c.complete) return `complete: ${count(c.writers.length)} writer${c.writers.length === 1 ? '' : 's'} stated every record, none lost`;
  const parts = [
    c.dropped ? `${count(c.dropped)} records stated lost` : '',
    c.silent ? `${c.silent} writer${c.silent === 1 ? '' : 's'} silent` : '',
    c.unstated ? `${c.unstated} writer${c.unstated === 1 ? '' : 's'} not stating` : '',
    c.unreadable_journal_bytes ? `${count(c.unreadable_journal_bytes)} journal bytes unreadable` : '',
  ].filter(Boolean);
  return `INCOMPLETE: ${parts.join('; ')} (the report names them; so does "inferlog verify")`;
}

function render(report: EvidenceReport, out: string, size: number): string {
  const { logged, oversight, retention, verification: v } = report;
  const lines = [
    `wrote ${out} (${bytes(size)}): evidence report of ${report.source.schema}.${report.source.table} from ${report.period.since} to ${report.period.until}`,
    `inferences   ${count(logged.totals.inferences)} (${count(logged.totals.errors)} failed), ${count(oversight.events)} oversight events, legal hold ${retention.hold.now.active ? 'ON' : 'off'}`,
    `completeness ${completenessLine(report)}`,
  ];
  const e = report.export;
  if (e) {
    lines.push(`export       ${e.file}: ${count(e.records)} records; ${e.events_file}: ${count(e.events)} events`);
    lines.push(`manifest     ${e.manifest_file} sha256 ${e.manifest_sha256}`);
  }
  lines.push(
    v.ok
      ? `verification OK: ${count(v.rows)} rows in ${count(v.chains.length)} chains (the whole log)`
      : `VERIFICATION FAILED (the report says so): ${v.problems[0]?.message ?? 'unknown problem'}${v.problems.length > 1 ? ` (and ${v.problems.length - 1}${v.more_problems ? '+' : ''} more)` : ''}`,
  );
  return lines.join('\n');
}

/** The export's three files and the report must be four different files. */
function checkFiles(out: string, exportTo: string | undefined): void {
  if (!exportTo) return;
  const bundle = [exportTo, eventsPath(exportTo), manifestPath(exportTo)].map((f) => resolve(f));
  if (bundle.includes(resolve(out)))
    throw new CliError(`--out ${out} would overwrite a file of the export --export ${exportTo}: give the report another name`, EXIT.usage);
}

/** `inferlog report`: an evidence report of a period as one self-contained, printable HTML document. */
export const report: CommandModule = (program, ctx) => {
  addLogOptions(
    addPeriodOptions(
      program
        .command('report')
        .summary(
          'write an evidence report of a period (HTML, printable): what was logged, retention and holds, oversight, verification, export',
        )
        .description(
          'Reads, in one snapshot, what the log holds for the period from --since up to --until (records by started_at, oversight ' +
            'events by created_at) and writes one self-contained HTML document for an authority (no scripts, nothing loaded from ' +
            'elsewhere, printable on A4): what was logged per model, day, protocol, route and status; retention runs, the partitions ' +
            "kept and the legal hold; oversight events by type, day and actor and how many of the period's inferences they cover; the " +
            'verification of the whole log (as "inferlog verify"); and with --export FILE an export of the period (as "inferlog ' +
            'export", JSONL, with FILE.events.jsonl and FILE.manifest.json) whose manifest SHA-256 the report names. Exits 0 when ' +
            'the report is written and the log verifies, 1 when verification found a problem (the report is written and says so).',
        )
        .requiredOption('--out <file.html>', 'the HTML file to write (replaced if it exists)')
        .option('--export <file>', "also export the period's records to this file (JSONL), with the events and the manifest beside it"),
      { requiredSince: true, untilDefault: 'the moment the report starts' },
    ),
  ).action(
    act(ctx, async (opts: ReportOptions) => {
      const until = opts.until ?? new Date();
      if (opts.since.getTime() >= until.getTime())
        throw new CliError(
          `--since (${opts.since.toISOString()}) must be before --until (${until.toISOString()}): the period is empty`,
          EXIT.usage,
        );
      checkFiles(opts.out, opts.export);
      return withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const { signal, release } = interruption(ctx.io);
        let result: EvidenceReport;
        try {
          result = await evidenceReport(log.db, log.schema, log.table, { since: opts.since, until, exportTo: opts.export, signal });
        } finally {
          release();
        }
        const document = renderEvidenceReport(result);
        await writeFile(`${opts.out}.partial`, document);
        await rename(`${opts.out}.partial`, opts.out).catch(async (err) => {
          await rm(`${opts.out}.partial`, { force: true });
          throw err;
        });
        if (opts.json) printJson(ctx.io, { out: opts.out, ...result });
        else print(ctx.io, render(result, opts.out, Buffer.byteLength(document)));
        return result.verification.ok ? EXIT.ok : EXIT.failed;
      });
    }),
  );
};
