/** Where a run of the CLI reads and writes: the process's streams, or a test's buffers. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  /** Messages, warnings and the progress bar (only when `isTTY`). */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Environment (`DATABASE_URL`). */
  env: Record<string, string | undefined>;
  /** Ends `tail -f` and stops an export. Default: SIGINT or SIGTERM to this process while a command waits for it. */
  signal?: AbortSignal;
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/**
 * The signal that ends a long-running command: the caller's, or one SIGINT/SIGTERM aborts (Ctrl-C), with
 * the handlers removed by `release` so commands that never ask keep Node's default Ctrl-C.
 */
export function interruption(io: CliIo): { signal: AbortSignal; release: () => void } {
  if (io.signal) return { signal: io.signal, release: () => {} };
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}
