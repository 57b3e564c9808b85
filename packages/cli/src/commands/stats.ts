import { logStats } from '@inferlog/core/audit';
import { act, type CommandModule } from '../context';
import { withLog } from '../database';
import { addFilterOptions, addLogOptions, filterOf, logOptionsOf, type CommonOptions, type FilterOptions } from '../options';
import { count, ms, print, printJson, table } from '../output';

/** `inferlog stats`: per model and day, counts, error rate, latency percentiles and tokens. */
export const stats: CommandModule = (program, ctx) => {
  addLogOptions(
    addFilterOptions(
      program
        .command('stats')
        .summary('per model and day: count, error rate, p50/p95 latency, token totals')
        .description(
          'Aggregates the records that match the filters per model and UTC day: count, errors (status >= 400 or an error ' +
            'recorded) and error rate, median and 95th percentile latency (interpolated, as percentile_cont), and the sums of ' +
            'usage.input_tokens and usage.output_tokens.',
        ),
    ),
  ).action(
    act(ctx, async (opts: CommonOptions & FilterOptions) =>
      withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const rows = await logStats(log.db, log.schema, log.table, filterOf(opts));
        if (opts.json) return printJson(ctx.io, rows);
        if (rows.length === 0) return print(ctx.io, 'no records match');
        print(
          ctx.io,
          table(rows, [
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
      }),
    ),
  );
};
