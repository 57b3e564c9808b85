import { CommanderError } from 'commander';
import { buildProgram } from './program';
import { EXIT, explain } from './errors';
import { processIo, type CliIo } from './io';

/**
 * Runs the `inferlog` command line (`argv` without node and the script: `['query', '--since', '24h']`)
 * and resolves with its exit code; never calls process.exit. Output goes to `io` (default: the process's
 * streams and environment), so tests run commands in-process.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const ctx = { io, exitCode: EXIT.ok as number };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the help, version or usage error already.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help'
        ? EXIT.ok
        : EXIT.usage;
    }
    const { message, exitCode } = explain(err);
    io.stderr.write(`inferlog: ${message}\n`);
    return exitCode;
  }
}
