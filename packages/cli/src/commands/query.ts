import { InvalidArgumentError, Option } from 'commander';
import { decodeCursor, queryRecords } from '@inferlog/core/audit';
import { act, type CommandModule } from '../context';
import { withLog } from '../database';
import { addFilterOptions, addLogOptions, filterOf, logOptionsOf, wholeNumber, type CommonOptions, type FilterOptions } from '../options';
import { print, printJson, table } from '../output';
import { RECORD_TABLE_COLUMNS } from '../records';

interface QueryOptions extends CommonOptions, FilterOptions {
  limit: number;
  after?: string;
}

/** `inferlog query`: records by time, model, route, status, protocol and annotations, a page at a time. */
export const query: CommandModule = (program, ctx) => {
  addLogOptions(
    addFilterOptions(
      program
        .command('query')
        .summary('find records by time, model, version, route, status, protocol, annotations')
        .description(
          'Lists the records that match every filter given, oldest first ((started_at, id) order), --limit per page. When there are ' +
            'more, it prints the cursor of the next page: pass it as --after to continue exactly after the last row shown. ' +
            'With --json it prints {"rows": [...every column, canonical form], "next": cursor or null}.',
        )
        .option('--limit <n>', 'records per page', wholeNumber('--limit', 1, 10_000), 50)
        .addOption(
          new Option('--after <cursor>', 'continue after this cursor (printed by the previous page)').argParser((value: string) => {
            try {
              decodeCursor(value);
            } catch (err) {
              throw new InvalidArgumentError((err as Error).message.replace(/^inferlog: /, ''));
            }
            return value;
          }),
        ),
    ),
  ).action(
    act(ctx, async (opts: QueryOptions) =>
      withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const page = await queryRecords(log.db, log.schema, log.table, filterOf(opts), { limit: opts.limit, after: opts.after });
        if (opts.json) return printJson(ctx.io, page);
        if (page.rows.length === 0) return print(ctx.io, opts.after ? 'no more records' : 'no records match');
        print(ctx.io, table(page.rows, RECORD_TABLE_COLUMNS));
        print(
          ctx.io,
          page.next ? `\nnext page: --after ${page.next}` : `\n(${page.rows.length} record${page.rows.length === 1 ? '' : 's'}; last page)`,
        );
      }),
    ),
  );
};
