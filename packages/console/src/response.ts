import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * The console's Content-Security-Policy: scripts, styles and images only from its own assets, requests
 * only to itself, no frames, forms only to itself. No inline script or style exists to allow.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Headers of every answer: the policy above, no sniffing, no referrer, no framing, no sharing across origins. */
export const SAFETY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** What a page handler answers when it is not an HTML page in the layout: a redirect, a fragment, a file. */
export interface RawResponse {
  kind: 'raw';
  status: number;
  headers: Record<string, string>;
  body: string | Buffer | Readable | null;
}

export const redirect = (location: string, status = 303): RawResponse => ({ kind: 'raw', status, headers: { location }, body: null });

/** Sends an answer with the safety headers; pages are never cached (they show the log as it is now). */
export async function send(res: ServerResponse, response: RawResponse, head: boolean): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries({ 'cache-control': 'no-store', ...SAFETY_HEADERS, ...response.headers }))
    res.setHeader(name, value);
  const body = response.body;
  if (head || body === null) {
    if (body !== null && typeof body === 'object' && 'destroy' in body) body.destroy();
    res.end();
  } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(body);
  } else {
    await pipeline(body, res);
  }
}
