import { applyRetention, type RetentionResult } from '@inferlog/core/audit';
import { actorOf } from '../actor';
import { act, type CommandModule } from '../context';
import { withLog } from '../database';
import { addLogOptions, duration, logOptionsOf, type CommonOptions } from '../options';
import { count, print, printJson, table } from '../output';

interface RetentionOptions extends CommonOptions {
  keep: string;
  dryRun?: boolean;
  force?: boolean;
  actor?: string;
  lockTimeout: number;
}

function render(result: RetentionResult, place: string): string {
  const verb = result.dryRun ? 'would drop' : 'dropped';
  const rows = result.dropped.reduce((sum, p) => sum + p.rows, 0);
  return [
    `${place}: keep ${result.keep}, cutoff ${result.cutoff.toISOString()}${result.dryRun ? ' (dry run: nothing changed)' : ''}`,
    '',
    result.dropped.length === 0
      ? `nothing to drop: no partition ends at or before the cutoff (${result.kept} kept)`
      : table(result.dropped, [
          { header: 'partition', value: (p) => p.partition },
          { header: 'from', value: (p) => p.from.toISOString() },
          { header: 'to', value: (p) => p.to.toISOString() },
          { header: 'rows', value: (p) => count(p.rows), right: true },
        ]),
    ...(result.dropped.length === 0
      ? []
      : [
          '',
          `${verb} ${result.dropped.length} partition${result.dropped.length === 1 ? '' : 's'} (${count(rows)} rows); ${result.kept} kept${result.dryRun ? '' : `; ${result.gaps} chain stretches recorded so the rows kept still verify; audited`}`,
        ]),
  ].join('\n');
}

/** `inferlog retention`: drops the monthly partitions wholly older than the period to keep. */
export const retention: CommandModule = (program, ctx) => {
  addLogOptions(
    program
      .command('retention')
      .summary('drop the monthly partitions wholly older than the period to keep')
      .description(
        'Drops every monthly partition whose end is at or before now minus --keep (184d, 27w, 6mo, 1y, "6 months": months are ' +
          'calendar months, UTC), after recording the hash-chain stretches it drops so the rows kept still verify, and writes who ' +
          'and why to the audit table. Refuses a period that can be shorter than six months (6mo, or 184 days: AI Act Art. 19(1), 26(6)) without ' +
          '--force, and refuses everything while a legal hold is on ("inferlog hold"). Run it as the owner of the schema.',
      )
      .requiredOption('--keep <period>', 'how long records are kept: 6mo, 184d, 27w, 1y, …')
      .option('--dry-run', 'show what would be dropped; change nothing')
      .option('--force', 'allow a period shorter than six months (where Union or national law allows less); never overrides a legal hold')
      .option('--actor <who>', 'who runs it, for the audit table (default: the OS user at this host)')
      .option(
        '--lock-timeout <duration>',
        'longest wait for the locks on the log table before giving up, changing nothing',
        duration('--lock-timeout', 1),
        10_000,
      ),
  ).action(
    act(ctx, async (opts: RetentionOptions) =>
      withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const result = await applyRetention(log.db, log.schema, log.table, {
          keep: opts.keep,
          actor: actorOf(opts.actor),
          dryRun: opts.dryRun === true,
          force: opts.force === true,
          lockTimeoutMs: opts.lockTimeout,
        });
        if (opts.json) return printJson(ctx.io, result);
        print(ctx.io, render(result, `${log.schema}.${log.table}`));
      }),
    ),
  );
};
