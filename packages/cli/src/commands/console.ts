import { randomBytes } from 'node:crypto';
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
  /** A secret; false with --no-token; undefined: $INFERLOG_CONSOLE_TOKEN, else one is made. */
  token?: string | false;
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
          'a bundle. It reads as the database role inferlog_reader where that role exists, in read-only transactions. It asks ' +
          'for a token: --token or $INFERLOG_CONSOLE_TOKEN (at least 16 characters), else it makes one; the address it prints ' +
          'carries it once, after which the browser keeps a cookie for 12 hours. Another user of this machine, or a proxy in ' +
          'front of it, cannot read the log without it. --no-token serves only a browser on this machine, on loopback, not ' +
          'through a proxy that says so; --host beyond loopback needs a token.',
      )
      .option('--host <address>', 'address to listen on', '127.0.0.1')
      .option('--port <n>', 'port to listen on (0: any free port)', wholeNumber('--port', 0, 65535), 4319)
      .addOption(
        new Option('--token <secret>', 'secret a browser or script must present (default: $INFERLOG_CONSOLE_TOKEN, else a new one)'),
      )
      .option('--no-token', 'no token: serve only a browser on this machine (loopback, a loopback Host, no proxy headers)')
      .option('--title <name>', 'name shown in the header (a service name)'),
  ).action(
    act(ctx, async (opts: ConsoleCommandOptions) =>
      withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const token =
          opts.token === false ? undefined : (opts.token ?? ctx.io.env.INFERLOG_CONSOLE_TOKEN ?? randomBytes(16).toString('hex'));
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
          // Listening on every address (0.0.0.0, ::): this machine's loopback opens it here, its own name elsewhere.
          const url = running.url.replace(/^http:\/\/(0\.0\.0\.0|\[::\]):/, 'http://127.0.0.1:');
          const everywhere =
            url !== running.url ? ` (listening on every address: elsewhere use this machine's name and port ${new URL(url).port})` : '';
          const address = token ? `${url}?token=${encodeURIComponent(token)}` : url;
          if (opts.json) print(ctx.io, JSON.stringify({ url: address }));
          else print(ctx.io, `inferlog console: ${address}${everywhere} (reading ${log.where}; Ctrl-C stops it)`);
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
