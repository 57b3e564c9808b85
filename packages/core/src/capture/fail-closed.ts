import type { ServerResponse } from 'node:http';

/** The 503 body of `overflow: 'fail-closed'`: an OIP-style `{"error": "..."}` saying why nothing was served. */
export function failClosedBody(reason: string): { error: string } {
  return {
    error: `service unavailable: ${reason}; the request was not served because it could not be logged`,
  };
}

/** Answers 503 on a bare Node response (Express); Koa sets the same body through its context. */
export function refuseUnlogged(res: ServerResponse, reason: string): void {
  res.statusCode = 503;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('retry-after', '1');
  res.end(JSON.stringify(failClosedBody(reason)));
}
