import type { Exchange } from '../capture/exchange';
import type { DecodedExchange } from '../decode/exchange';
import { storedForm } from '../json';
import type { MappedFields } from '../protocols/mapper';
import { withoutCutTail } from '../redact/cut-tail';
import { decodedPath, redactable } from '../redact/raw-body';
import { updateMany, valueAt, type Location } from '../redact/update';
import { redact, type RecordParts, type Redactor } from '../redact/redactor';
import { pickHeaders } from './headers';
import { limitEachDepth } from './sanitize';
import type { RecordSettings } from './settings';
import type { CompiledRoute } from '../routes';

/** The record's parts after limits and redaction, with what was cut and which rules fired. */
export interface RedactedParts {
  parts: RecordParts;
  /** The path as the rules scanned it (percent-decoded when there are rules). */
  scannedPath: string;
  /** The framework's route as the rules scanned it; null when the route is a configured pattern (never redacted) or there is none. */
  scannedRoute: string | null;
  /** JSON parts cut at the nesting limit. */
  cut: string[];
  /** Bodies withheld because the rules cannot read them, then the rules and detectors that fired. */
  redactions: string[];
}

/**
 * The parts with each string a mapper says ends where its body was cut (`cutStrings`) without the tail that
 * may be the start of a value detectors would have recognised whole. Copy-on-write: parts may be the app's.
 */
function withoutCutTails<T extends Record<string, unknown>>(values: T, locations: readonly (string | number)[][]): T {
  const ops: { location: Location; value: unknown }[] = [];
  for (const location of locations) {
    const value = valueAt(values, location);
    if (typeof value === 'string') ops.push({ location, value: withoutCutTail(value) });
  }
  return ops.length > 0 ? (updateMany(values, ops) as T) : values;
}

/**
 * The mapped and captured parts of a record as they may be stored: raw bodies kept only where the
 * rules can read them, headers filtered by the allow-lists, every JSON part cut at the nesting limit,
 * then the route's redaction rules applied.
 */
export function redactedParts(
  x: Exchange<CompiledRoute>,
  decoded: DecodedExchange,
  mapped: MappedFields,
  error: unknown,
  redactor: Redactor | null,
  o: RecordSettings,
): RedactedParts {
  const withheld: string[] = [];
  // A body is cut at the size cap, or short because the client went away (stopped sending, or left the response).
  const requestCut = decoded.request.truncated || x.requestIncomplete;
  const responseCut = decoded.response.truncated || x.aborted;
  const requestBody = mapped.keepRequestBody
    ? redactable(decoded.request, String(x.requestHeaders['content-type'] ?? ''), redactor, 'request_body', withheld, requestCut)
    : null;
  const responseBody = mapped.keepResponseBody
    ? redactable(decoded.response, String(x.responseHeaders['content-type'] ?? ''), redactor, 'response_body', withheld, responseCut)
    : null;
  const scannedPath = redactor ? decodedPath(decoded.path) : decoded.path;
  // A pattern the app configured is stored as written. The framework's route (for a RegExp or predicate
  // rule) can hold values, such as the path Express filled in for a router mounted at '/tenants/:tenant'.
  const frameworkRoute = x.route.label === null ? x.frameworkRoute : null;
  const scannedRoute = frameworkRoute !== null && redactor ? decodedPath(frameworkRoute) : frameworkRoute;
  const limited = limitEachDepth({
    path: scannedPath,
    ...(scannedRoute !== null ? { route: scannedRoute } : {}),
    request_id: x.requestId,
    inference_id: mapped.inference_id ?? null,
    model_name: mapped.model_name ?? null,
    model_version: mapped.model_version ?? null,
    parameters: mapped.parameters ?? null,
    inputs: mapped.inputs ?? null,
    outputs: mapped.outputs ?? null,
    response_parameters: mapped.response_parameters ?? null,
    usage: mapped.usage ?? null,
    error,
    annotations: redactor ? storedForm(x.annotations) : x.annotations,
    request_headers: pickHeaders(x.requestHeaders, o.requestHeaders),
    response_headers: pickHeaders(x.responseHeaders, o.responseHeaders),
    request_body: requestBody,
    response_body: responseBody,
    schema_errors: mapped.schema_errors ?? null,
  });
  const values = redactor?.detects && mapped.cutStrings ? withoutCutTails(limited.values, mapped.cutStrings) : limited.values;
  const { parts, fired } = redact(redactor, values);
  if (parts.request_id !== x.requestId) sameIdInHeaders(parts, o.requestIdHeader, x.requestId, redactor);
  return { parts, scannedPath, scannedRoute, cut: limited.cut, redactions: [...withheld, ...fired] };
}

/**
 * A rule changed the request id (masked, pseudonymised): the request-id header, stored by default and
 * echoed on the response, holds the same value, which must not stay there in clear. Where it holds the
 * raw id it gets what the rule made of it; any other value there (a client's id inferlog did not accept,
 * such as a header sent twice) goes through the same rules as a request id. Copy-on-write.
 */
function sameIdInHeaders(parts: RecordParts, header: string | null, raw: string, redactor: Redactor | null): void {
  if (!header) return;
  const asRequestId = (v: string): string => {
    const id = v === raw ? parts.request_id : redact(redactor, { request_id: v }).parts.request_id;
    return typeof id === 'string' && id !== '' ? id : '[withheld]';
  };
  for (const part of ['request_headers', 'response_headers'] as const) {
    const headers = parts[part] as Record<string, string | string[]> | null | undefined;
    const value = headers?.[header];
    if (value === undefined) continue;
    parts[part] = { ...headers, [header]: Array.isArray(value) ? value.map(asRequestId) : asRequestId(value) };
  }
}
