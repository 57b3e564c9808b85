import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InferlogConfigError } from '@inferlog/core';
import { isLoopbackHost } from './access';
import { inferlogConsole } from './handler';
import type { ConsoleOptions } from './options';

/** Options of `startConsole`: the console's, and where to listen. */
export interface ConsoleServerOptions extends ConsoleOptions {
  /** The address to listen on. Default `127.0.0.1`. Any other than loopback needs `token` or `authenticate`. */
  host?: string;
  /** The port. Default 4319; 0 picks a free one. */
  port?: number;
}

/** A running console: its address, and how to stop it. */
export interface RunningConsole {
  server: Server;
  /** `http://host:port/` (IPv6 hosts in brackets). */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the console on its own HTTP server (what `inferlog console` runs). Refuses to listen beyond
 * loopback without a token or an authenticate function: a log holds what strangers sent.
 */
export async function startConsole(options: ConsoleServerOptions): Promise<RunningConsole> {
  const { host = '127.0.0.1', port = 4319, ...consoleOptions } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InferlogConfigError(`console option "port" must be a port number (0 to 65535); got ${port}`);
  if (!isLoopbackHost(host) && !consoleOptions.token && !consoleOptions.authenticate)
    throw new InferlogConfigError(
      `the console would listen on ${host}, beyond this machine, without authentication: give it a token (--token, at least 16 characters) or listen on 127.0.0.1`,
    );
  const handler = inferlogConsole(consoleOptions);
  const server = createServer((req, res) => handler(req, res));
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // verification and export of a large log take minutes
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await handler.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shown}:${address.port}/`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await handler.close();
    },
  };
}
