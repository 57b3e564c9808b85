import { InvalidArgumentError } from 'commander';
import { holdStatus, setHold, type HoldState } from '@inferlog/core/audit';
import { actorOf } from '../actor';
import { act, type CommandModule } from '../context';
import { withLog } from '../database';
import { addLogOptions, logOptionsOf, type CommonOptions } from '../options';
import { print, printJson } from '../output';

interface HoldOptions extends CommonOptions {
  reason?: string;
  actor?: string;
}

function describeHold(hold: HoldState): string {
  if (!hold.since) return 'legal hold: off (never set)';
  return `legal hold: ${hold.active ? 'ON' : 'off'} since ${hold.since.toISOString()}, ${hold.active ? 'set' : 'lifted'} by ${hold.actor} (reason: ${hold.reason})`;
}

/** `inferlog hold [on|off]`: shows, sets or lifts the legal hold that blocks retention. */
export const hold: CommandModule = (program, ctx) => {
  addLogOptions(
    program
      .command('hold')
      .summary('show, set or lift the legal hold that blocks retention')
      .description(
        'Without an argument, shows the legal hold. "on" sets it (retention is then refused, even with --force) and "off" lifts ' +
          'it; both need --reason (the case, order or request) and are written to the audit table with who and when.',
      )
      .argument('[state]', 'on or off', (value: string) => {
        if (value !== 'on' && value !== 'off') throw new InvalidArgumentError('must be "on" or "off"');
        return value;
      })
      .option('--reason <text>', 'why the hold is set or lifted (required with on/off)')
      .option('--actor <who>', 'who sets or lifts it, for the audit table (default: the OS user at this host)'),
  ).action(
    act(ctx, async (state: 'on' | 'off' | undefined, opts: HoldOptions) =>
      withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const result = state
          ? await setHold(log.db, log.schema, log.table, { active: state === 'on', reason: opts.reason ?? '', actor: actorOf(opts.actor) })
          : await holdStatus(log.db, log.schema, log.table);
        if (opts.json) return printJson(ctx.io, result);
        print(ctx.io, `${log.schema}.${log.table}: ${describeHold(result)}`);
      }),
    ),
  );
};
