import type { IncomingMessage } from 'node:http';
import type { BodyCollector } from './body-collector';

type AnyFn = (...args: unknown[]) => unknown;

/**
 * Sees the request body as whoever reads it reads it (a body parser, a pipe, `for await`), by watching
 * the stream's 'data' events. It adds no listener, so it never switches the stream into flowing mode
 * or steals data from the app.
 */
export function teeRequest(req: IncomingMessage, body: BodyCollector): void {
  const emit = req.emit as AnyFn;
  req.emit = function teeEmit(this: IncomingMessage, ...args: unknown[]): boolean {
    if (args[0] === 'data') body.add(args[1], (this.readableEncoding ?? undefined) as BufferEncoding | undefined);
    return emit.apply(this, args) as boolean;
  } as typeof req.emit;
}
