import type { Command } from 'commander';
import type { CliIo } from './io';

/** What a command's action gets besides its options: the io, and where it leaves its exit code. */
export interface Context {
  io: CliIo;
  exitCode: number;
}

/** A command of the CLI: one file in src/commands/ that adds itself to the program. */
export type CommandModule = (program: Command, ctx: Context) => void;

/** Runs a command's work and keeps its exit code (0 when it returns nothing). */
// biome-ignore lint/suspicious/noConfusingVoidType: a command's work may return nothing at all, which is exit code 0
export function act<A extends unknown[]>(ctx: Context, work: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    ctx.exitCode = (await work(...args)) ?? 0;
  };
}
