import type { ServerResponse } from 'node:http';
import type { BodyCollector } from './body-collector';

type AnyFn = (...args: unknown[]) => unknown;

/**
 * Copies references to what the app writes with `res.write` and `res.end`, then calls the originals
 * with the very same arguments and returns what they return, so callbacks, encodings and
 * backpressure (`write()` returning false) are untouched.
 */
export function teeResponse(res: ServerResponse, body: BodyCollector): void {
  const write = res.write as AnyFn;
  const end = res.end as AnyFn;
  // Rest parameters, not named ones: the originals see exactly the arguments the app passed, no more.
  res.write = function teeWrite(this: ServerResponse, ...args: unknown[]): boolean {
    const [chunk, encoding] = args;
    body.add(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined);
    return write.apply(this, args) as boolean;
  } as typeof res.write;
  res.end = function teeEnd(this: ServerResponse, ...args: unknown[]): ServerResponse {
    const [chunk, encoding] = args;
    if (typeof chunk !== 'function') body.add(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined);
    return end.apply(this, args) as ServerResponse;
  } as typeof res.end;
}
