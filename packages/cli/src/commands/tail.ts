import { Option } from 'commander';
import { LogFollower, tailRecords, type RecordRow } from '@inferlog/core/audit';
import { act, type CommandModule } from '../context';
import { withLog } from '../database';
import { interruption } from '../io';
import {
  addFilterOptions,
  addLogOptions,
  duration,
  filterOf,
  logOptionsOf,
  wholeNumber,
  type CommonOptions,
  type FilterOptions,
} from '../options';
import { fixedHeader, fixedLine, printJsonLine, print } from '../output';
import { RECORD_TABLE_COLUMNS } from '../records';

interface TailOptions extends CommonOptions, FilterOptions {
  lines: number;
  follow?: boolean;
  interval: number;
  grace: number;
}

/** `inferlog tail`: the newest records, and with -f the ones that arrive. */
export const tail: CommandModule = (program, ctx) => {
  addLogOptions(
    addFilterOptions(
      program
        .command('tail')
        .summary('show the newest records; -f follows new ones as they arrive')
        .description(
          'Prints the newest records, oldest first: time, request id, model, version, status, latency, protocol, route. ' +
            'With -f it then polls for records that arrive and prints each once, until Ctrl-C. With --json each record is one ' +
            'JSON line (every column, canonical form).',
        )
        .option('-n, --lines <n>', 'how many of the newest records', wholeNumber('--lines', 0, 10_000), 20)
        .option('-f, --follow', 'keep printing records as they arrive (Ctrl-C ends)')
        .addOption(
          new Option('--interval <duration>', 'with -f: time between polls (500ms, 2s)')
            .argParser(duration('--interval', 10))
            .default(1000, '1s'),
        )
        .addOption(
          new Option(
            '--grace <duration>',
            'with -f: how late a record may arrive and still be shown (a row is written when its request ends, so a long stream lands after shorter requests that started later)',
          )
            .argParser(duration('--grace'))
            .default(60_000, '60s'),
        ),
    ),
  ).action(
    act(ctx, async (opts: TailOptions) =>
      withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const filter = filterOf(opts);
        const show = (rows: RecordRow[]) => {
          for (const row of rows) opts.json ? printJsonLine(ctx.io, row) : print(ctx.io, fixedLine(row, RECORD_TABLE_COLUMNS));
        };
        const stop = opts.follow ? interruption(ctx.io) : null;
        try {
          // The follower starts before the first rows are read, so a row that lands in between is shown, once.
          const follower = stop
            ? await LogFollower.start(log.db, log.schema, log.table, {
                filter,
                intervalMs: opts.interval,
                graceMs: opts.grace,
                signal: stop.signal,
              })
            : null;
          const { rows } = opts.lines > 0 ? await tailRecords(log.db, log.schema, log.table, opts.lines, filter) : { rows: [] };
          if (!opts.json) print(ctx.io, fixedHeader(RECORD_TABLE_COLUMNS));
          show(rows);
          if (!follower) return;
          follower.markShown(rows);
          await follower.run(show);
        } finally {
          stop?.release();
        }
      }),
    ),
  );
};
