import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Request headers stored when `headers.request` is not given. */
export const DEFAULT_REQUEST_HEADERS: readonly string[] = [
  'content-type',
  'content-length',
  'content-encoding',
  'accept',
  'accept-encoding',
  'user-agent',
  'x-request-id',
  'traceparent',
  'tracestate',
];

/** Response headers stored when `headers.response` is not given. */
export const DEFAULT_RESPONSE_HEADERS: readonly string[] = [
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'x-request-id',
];

const NEVER_STORED = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
const SECRET_SUFFIX = /[-_](key|token|secret)$/i;

/** True for headers that carry credentials; they are never stored, whatever the allow-list says. */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return NEVER_STORED.has(lower) || SECRET_SUFFIX.test(lower);
}

/** The allow-listed, non-secret headers as a plain JSON object (names lower-case), or null when none. */
export function pickHeaders(
  headers: IncomingHttpHeaders | OutgoingHttpHeaders | undefined,
  allow: ReadonlySet<string>,
): Record<string, string | string[]> | null {
  if (!headers) return null;
  let out: Record<string, string | string[]> | null = null;
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (!allow.has(lower) || isSecretHeader(lower)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    out ??= {};
    out[lower] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}
