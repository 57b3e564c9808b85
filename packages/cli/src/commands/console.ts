import { Option } from 'commander';
import { startConsole } from '@inferlog/console';
import { act, type CommandModule } from '../context';
import { withLog } from '../database';
import { interruption } from '../io';
import { addLogOptions, logOptionsOf, wholeNumber, type CommonOptions } from '../options';
import { print } from '../output';

interface ConsoleCommandOptions extends CommonOptions {
  host: string;
  port: number;
  token?: string;
  title?: string;
}

/** `inferlog console`: the read-only web console on 127.0.0.1 (or elsewhere, with a token) until Ctrl-C. */
export const consoleCommand: CommandModule = (program, ctx) => {
  addLogOptions(
    program
      .command('console')
      .summary('serve a read-only web console of the log: records, one inference, statistics, drift, verify, export')
      .description(
        'Serves the audit console on http://127.0.0.1:<port>/ until interrupted: the records newest first with filters, one ' +
          'inference with its tensors, events and chain, statistics and drift charts, verification and export of a time range as ' +
          'a bundle. It reads as the database role inferlog_reader where that role exists, in read-only transactions. It listens ' +
          'beyond this machine (--host) only with a token: --token or $INFERLOG_CONSOLE_TOKEN, at least 16 characters; the ' +
          'address it prints carries the token once, after which the browser keeps a cookie.',
      )
      .option('--host <address>', 'address to listen on', '127.0.0.1')
      .option('--port <n>', 'port to listen on (0: any free port)', wholeNumber('--port', 0, 65535), 4319)
      .addOption(new Option('--token <secret>', 'secret a browser or script must present (default: $INFERLOG_CONSOLE_TOKEN)'))
      .option('--title <name>', 'name shown in the header (a service name)'),
  ).action(
    act(ctx, async (opts: ConsoleCommandOptions) =>
      withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const token = opts.token ?? ctx.io.env.INFERLOG_CONSOLE_TOKEN;
        const running = await startConsole({
          database: log.connectionString,
          schema: log.schema,
          table: log.table,
          host: opts.host,
          port: opts.port,
          ...(token ? { token } : {}),
          ...(opts.title ? { title: opts.title } : {}),
        });
        const stop = interruption(ctx.io);
        try {
          const address = token ? `${running.url}?token=${encodeURIComponent(token)}` : running.url;
          if (opts.json) print(ctx.io, JSON.stringify({ url: running.url }));
          else print(ctx.io, `inferlog console: ${address} (reading ${log.where}; Ctrl-C stops it)`);
          await new Promise<void>((resolve) => {
            if (stop.signal.aborted) resolve();
            else stop.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        } finally {
          stop.release();
          await running.close();
        }
      }),
    ),
  );
};
