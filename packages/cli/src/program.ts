import { Command } from 'commander';
import { VERSION } from '@inferlog/core';
import { COMMANDS } from './commands';
import type { Context } from './context';

const HELP_AFTER = `
Where the log is: --database <url>, else $DATABASE_URL, else the embedded store in --embedded-dir (development).
--schema (default inferlog) and --table (default inference_log) name the log table.

Exit codes: 0 success; 1 a check failed (verify found a problem, show found nothing or a chain that does not verify);
2 invalid usage; 3 could not run (database unreachable, table missing, file not readable).

Examples:
  inferlog migrate --months-ahead 3
  inferlog tail -f
  inferlog query --since 24h --model credit-risk --status 5xx
  inferlog show req-7781
  inferlog stats --since 7d
  inferlog monitor --since 14d --predict threshold:0.5 --html monitor.html
  inferlog export --since 2026-04-01 --until 2026-05-01 --format csv --out april.csv
  inferlog verify --bundle april.csv.manifest.json
  inferlog console --port 4319`;

/** The `inferlog` program: every command of src/commands, output and errors routed through `ctx.io`, never exiting the process. */
export function buildProgram(ctx: Context): Command {
  const program = new Command('inferlog')
    .description(
      'Operate, audit and monitor an inferlog inference log in PostgreSQL: migrate, tail, show, query, stats, monitor, export, verify, console.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addHelpCommand(false)
    // Subcommand options come after the subcommand (so `query --version 3` filters by model version).
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void ctx.io.stdout.write(text),
      writeErr: (text) => void ctx.io.stderr.write(text),
    })
    .addHelpText('after', HELP_AFTER);
  for (const register of COMMANDS) register(program, ctx);
  return program;
}
