import {
  checkIdentifications,
  countIdentifications,
  logCompleteness,
  logStats,
  type IdentificationCounts,
  type IdentificationFinding,
  type RecordFilter,
} from '@inferlog/core/audit';
import { renderCompleteness } from '../completeness';
import { act, type CommandModule } from '../context';
import type { CliIo } from '../io';
import { withLog, type OpenLog } from '../database';
import { FINDING_COLUMNS, filterArgs, PROBLEM_TEXT } from '../identification';
import { addFilterOptions, addLogOptions, filterOf, logOptionsOf, type CommonOptions, type FilterOptions } from '../options';
import { count, indent, ms, print, printJson, table } from '../output';

/** Failing identifications `stats` names; `query --failing-identifications` lists them all. */
const NAMED = 10;

/** `inferlog stats`: per model and day, counts, error rate, latency percentiles and tokens; and how identifications fare. */
export const stats: CommandModule = (program, ctx) => {
  addLogOptions(
    addFilterOptions(
      program
        .command('stats')
        .summary('per model and day: count, error rate, p50/p95 latency, token totals; identifications that fail Art. 12(3)/14(5)')
        .description(
          'Aggregates the records that match the filters per model and UTC day: count, errors (status >= 400 or an error ' +
            'recorded) and error rate, median and 95th percentile latency (interpolated, as percentile_cont), and the sums of ' +
            'usage.input_tokens and usage.output_tokens. When some of them are identifications (annotations.identification, AI Act ' +
            'Art. 12(3)), it counts them, their matches and those that fail the check (a match with fewer than two distinct ' +
            `verifiers, no reference database, a match not true or false), and names the first ${NAMED} that fail. ` +
            "Then the log's completeness over the range, from the writers' statements: per writer what it captured, wrote, " +
            'spilled, replayed and dropped (and which requests), and every writer that fell silent. ' +
            'With --json it prints {"days": [...], "identifications": {counts, "rows": [the first failing], "next": cursor or null}, "completeness": {...}}.',
        ),
    ),
  ).action(
    act(ctx, async (opts: CommonOptions & FilterOptions) =>
      withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const filter = filterOf(opts);
        const days = await logStats(log.db, log.schema, log.table, filter);
        const counts = await countIdentifications(log.db, log.schema, log.table, filter);
        const failing = counts.failing
          ? await checkIdentifications(log.db, log.schema, log.table, filter, { limit: NAMED })
          : { rows: [], next: null };
        const completeness = await logCompleteness(log.db, log.schema, log.table, { since: filter.since, until: filter.until });
        if (opts.json) return printJson(ctx.io, { days, identifications: { ...counts, ...failing }, completeness });
        if (days.length === 0) print(ctx.io, 'no records match');
        else
          print(
            ctx.io,
            table(days, [
              { header: 'day', value: (r) => r.day },
              { header: 'model', value: (r) => r.model_name ?? '-' },
              { header: 'count', value: (r) => count(r.count), right: true },
              { header: 'errors', value: (r) => count(r.errors), right: true },
              { header: 'error rate', value: (r) => `${(r.error_rate * 100).toFixed(2)} %`, right: true },
              { header: 'p50', value: (r) => ms(r.p50_ms), right: true },
              { header: 'p95', value: (r) => ms(r.p95_ms), right: true },
              { header: 'input tokens', value: (r) => count(r.input_tokens), right: true },
              { header: 'output tokens', value: (r) => count(r.output_tokens), right: true },
            ]),
          );
        if (counts.total) printIdentifications(ctx.io, log, filter, counts, failing.rows);
        const scope =
          filter.since || filter.until
            ? `${filter.since?.toISOString() ?? 'the start'} .. ${filter.until?.toISOString() ?? 'now'}`
            : 'the whole log';
        print(ctx.io, renderCompleteness(completeness, scope).join('\n'));
      }),
    ),
  );
};

/** The identifications section of the text output: counts, the first failing ones, and how to list them all. */
function printIdentifications(
  io: CliIo,
  log: OpenLog,
  filter: RecordFilter,
  counts: IdentificationCounts,
  named: IdentificationFinding[],
): void {
  const head = `Identifications (AI Act Art. 12(3), 14(5)): ${count(counts.total)}, of which ${count(counts.matches)} match${counts.matches === 1 ? '' : 'es'}`;
  print(io, '');
  if (counts.failing === 0) {
    print(io, `${head}; every one passes: each names its reference database, and each match has two or more distinct verifiers`);
    return;
  }
  print(io, `${head}; ${count(counts.failing)} FAIL the check`);
  const width = Math.max(...Object.values(PROBLEM_TEXT).map((t) => t.length));
  for (const [text, n] of [
    [PROBLEM_TEXT.fewer_than_two_verifiers, counts.under_verified],
    [PROBLEM_TEXT.no_reference_database, counts.without_reference_database],
    [PROBLEM_TEXT.match_not_boolean, counts.match_not_boolean],
  ] as const)
    if (n) print(io, indent(`${text.padEnd(width)}  ${count(n)}`));
  print(io, '');
  print(io, indent(table(named, FINDING_COLUMNS)));
  const where = [
    ...(log.schema === 'inferlog' ? [] : ['--schema', log.schema]),
    ...(log.table === 'inference_log' ? [] : ['--table', log.table]),
  ].join(' ');
  const command = ['inferlog query --failing-identifications', filterArgs(filter), where].filter(Boolean).join(' ');
  print(
    io,
    counts.failing > named.length
      ? `\nthe first ${named.length} of ${count(counts.failing)} are shown; all of them: ${command}`
      : `\nlist them with: ${command}`,
  );
}
