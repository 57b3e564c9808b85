import type { Server } from 'node:http';
import type { LoggerControls } from '@inferlog/express';

/** Runs an example server until SIGTERM/SIGINT, then stops taking requests and writes what inferlog still holds. */
export function serveUntilSignal(server: Server, log: LoggerControls | null, banner: string): void {
  server.once('listening', () => console.log(banner));
  const shutdown = () => server.close(() => void (log?.close() ?? Promise.resolve()).finally(() => process.exit(0)));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
