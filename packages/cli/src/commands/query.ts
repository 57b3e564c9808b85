import { InvalidArgumentError, Option } from 'commander';
import { checkIdentifications, decodeCursor, queryRecords, type RecordFilter } from '@inferlog/core/audit';
import { act, type CommandModule } from '../context';
import type { CliIo } from '../io';
import { withLog, type OpenLog } from '../database';
import { EXIT } from '../errors';
import { FINDING_COLUMNS } from '../identification';
import { addFilterOptions, addLogOptions, filterOf, logOptionsOf, wholeNumber, type CommonOptions, type FilterOptions } from '../options';
import { print, printJson, table } from '../output';
import { RECORD_TABLE_COLUMNS } from '../records';

interface QueryOptions extends CommonOptions, FilterOptions {
  limit: number;
  after?: string;
  failingIdentifications?: boolean;
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
            'With --json it prints {"rows": [...every column, canonical form], "next": cursor or null}. ' +
            'With --failing-identifications it lists, instead of records, the identifications (annotations.identification) that ' +
            'fail AI Act Art. 12(3)/14(5) — a match with fewer than two distinct verifiers (actors of human_review or ' +
            'second_verifier events), no reference database, a match that is not true or false — and exits 1 when it lists any.',
        )
        .option('--limit <n>', 'records per page', wholeNumber('--limit', 1, 10_000), 50)
        .option('--failing-identifications', 'list the identifications that fail Art. 12(3)/14(5) (exit 1 when there are any)')
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
        if (opts.failingIdentifications) return listFailing(ctx.io, log, filterOf(opts), opts);
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

/** `inferlog query --failing-identifications`: the identifications that fail the check, a page at a time; exit 1 when there are any. */
async function listFailing(io: CliIo, log: OpenLog, filter: RecordFilter, opts: QueryOptions): Promise<number> {
  const page = await checkIdentifications(log.db, log.schema, log.table, filter, { limit: opts.limit, after: opts.after });
  if (opts.json) printJson(io, page);
  else if (page.rows.length === 0) print(io, opts.after ? 'no more failing identifications' : 'no identification fails the check');
  else {
    print(io, table(page.rows, FINDING_COLUMNS));
    print(
      io,
      page.next
        ? `\nnext page: --after ${page.next}`
        : `\n(${page.rows.length} failing identification${page.rows.length === 1 ? '' : 's'}; last page)`,
    );
  }
  return page.rows.length ? EXIT.failed : EXIT.ok;
}
