import { prepareLog } from '@inferlog/core/audit';
import { act, type CommandModule } from '../context';
import { withLog } from '../database';
import { addLogOptions, logOptionsOf, wholeNumber, type CommonOptions } from '../options';
import { print, printJson } from '../output';

interface MigrateOptions extends CommonOptions {
  monthsAhead: number;
}

/** `inferlog migrate`: creates or updates the log's tables and its partitions ahead. */
export const migrate: CommandModule = (program, ctx) => {
  addLogOptions(
    program
      .command('migrate')
      .summary('create or update the log tables and the monthly partitions ahead')
      .description(
        'Applies the migrations the log lacks (in one transaction, under a lock, so replicas may run it together) and creates the ' +
          'monthly partitions from this month to --months-ahead months ahead. Run it as the owner of the schema, as a deployment ' +
          'step, before writers that run with migrate: false under the inferlog_writer role.',
      )
      .option('--months-ahead <n>', 'monthly partitions created ahead of the current month', wholeNumber('--months-ahead', 0, 120), 2),
  ).action(
    act(ctx, async (opts: MigrateOptions) =>
      withLog(
        logOptionsOf(opts),
        ctx.io,
        async (log) => {
          const result = await prepareLog(log.db, log.schema, log.table, opts.monthsAhead);
          if (opts.json) return printJson(ctx.io, { schema: log.schema, table: log.table, ...result });
          const name = (m: { version: number; name: string }) => `${String(m.version).padStart(3, '0')}_${m.name}`;
          print(ctx.io, `${log.schema}.${log.table} at ${log.where}`);
          print(
            ctx.io,
            result.applied.length
              ? `migrations applied now: ${result.applied.map(name).join(', ')}`
              : `migrations: up to date (${result.migrations.map(name).join(', ')})`,
          );
          print(ctx.io, `partitions: ${result.partitions.map((p) => `${p.name} (${p.created ? 'created' : 'exists'})`).join(', ')}`);
        },
        { create: true },
      ),
    ),
  );
};
