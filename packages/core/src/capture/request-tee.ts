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
  req.emit = function teeEmit(this: IncomingMessage, event: string | symbol, chunk?: unknown): boolean {
    if (event === 'data') body.add(chunk, (this.readableEncoding ?? undefined) as BufferEncoding | undefined);
    // eslint-disable-next-line prefer-rest-params
    return emit.apply(this, arguments as unknown as unknown[]) as boolean;
  } as typeof req.emit;
}
