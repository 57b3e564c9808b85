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
  res.write = function teeWrite(this: ServerResponse, chunk: unknown, encoding?: unknown): boolean {
    body.add(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined);
    // eslint-disable-next-line prefer-rest-params
    return write.apply(this, arguments as unknown as unknown[]) as boolean;
  } as typeof res.write;
  res.end = function teeEnd(this: ServerResponse, chunk?: unknown, encoding?: unknown): ServerResponse {
    if (typeof chunk !== 'function') body.add(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined);
    // eslint-disable-next-line prefer-rest-params
    return end.apply(this, arguments as unknown as unknown[]) as ServerResponse;
  } as typeof res.end;
}
