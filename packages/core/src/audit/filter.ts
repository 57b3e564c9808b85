import { storedText } from '../chain/canonical';
import { InferlogConfigError } from '../errors';
import { pgp } from '../sink/pgp';

/** A class of HTTP status codes. */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

/** One accepted status: an exact code, a class, or `none` (no response was sent: `status` is null). */
export type StatusMatch = number | StatusClass | 'none';

/** An annotation a record must carry: `annotations @> {key: value}`. A number or boolean also matches its text (`3` matches `"3"`). */
export interface AnnotationMatch {
  key: string;
  value: unknown;
}

/** Which records to read. Every field given narrows the selection; a record must match all of them. */
export interface RecordFilter {
  /** Records that started at or after this instant. */
  since?: Date;
  /** Records that started before this instant. */
  until?: Date;
  /** `model_name` equals this. */
  model?: string;
  /** `model_version` equals this. */
  version?: string;
  /** `route` (the matched pattern, e.g. `/v2/models/:model/infer`) equals this. */
  route?: string;
  /** `status` is any of these. */
  status?: StatusMatch[];
  /** `protocol` equals this. */
  protocol?: string;
  /** `annotations` contains every one of these. */
  annotations?: AnnotationMatch[];
  /** `request_id` equals this (as stored: the client's `x-request-id` or the generated one). */
  requestId?: string;
}

/** The filter as plain JSON (instants as ISO strings), as an export's manifest records it. */
export function describeFilter(filter: RecordFilter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (filter.since) out.since = filter.since.toISOString();
  if (filter.until) out.until = filter.until.toISOString();
  for (const key of ['model', 'version', 'route', 'protocol'] as const) if (filter[key] !== undefined) out[key] = filter[key];
  if (filter.status?.length) out.status = filter.status;
  if (filter.annotations?.length) out.annotations = filter.annotations.map(({ key, value }) => ({ [key]: value }));
  if (filter.requestId !== undefined) out.request_id = filter.requestId;
  return out;
}

function statusCondition(matches: StatusMatch[]): string {
  const parts = matches.map((m) => {
    if (m === 'none') return 'status IS NULL';
    if (typeof m === 'number') return pgp.as.format('status = $1', [m]);
    const base = Number(m[0]) * 100;
    return pgp.as.format('status BETWEEN $1 AND $2', [base, base + 99]);
  });
  return `(${parts.join(' OR ')})`;
}

function annotationCondition({ key, value }: AnnotationMatch): string {
  const exact = pgp.as.format('annotations @> $1::jsonb', [JSON.stringify({ [key]: value })]);
  if (typeof value !== 'number' && typeof value !== 'boolean') return exact;
  return `(${exact} OR ${pgp.as.format('annotations @> $1::jsonb', [JSON.stringify({ [key]: String(value) })])})`;
}

/**
 * Characters of `model_name` in the log's model index (migration 4): a btree entry must fit in 2704
 * bytes, and a client chooses the model name, so the index holds `left(model_name, 256)` (at most 1 KiB).
 */
export const MODEL_INDEX_PREFIX = 256;

/**
 * `column = value` for a text column, with the value as it is stored (U+0000 and lone surrogates are
 * U+FFFD, chain/canonical.ts), so a filter finds what was stored of the value it was given.
 */
export function textEquals(column: 'model_name' | 'model_version' | 'route' | 'protocol' | 'request_id', value: string): string {
  const text = storedText(value);
  // The model index holds a prefix: compared first, it finds the candidates; the whole name decides.
  if (column === 'model_name') return pgp.as.format('left(model_name, $2) = left($1, $2) AND model_name = $1', [text, MODEL_INDEX_PREFIX]);
  return pgp.as.format('$1:name = $2', [column, text]);
}

/**
 * The filter's SQL conditions (values quoted), joined by AND; `TRUE` for an empty filter. Pass it to a query as a `:raw` parameter, never
 * inside the query text: formatted again, a `$3` in a value would be taken for a parameter.
 */
export function filterSql(filter: RecordFilter): string {
  const conditions: string[] = [];
  if (filter.since) conditions.push(pgp.as.format('started_at >= $1', [filter.since]));
  if (filter.until) conditions.push(pgp.as.format('started_at < $1', [filter.until]));
  if (filter.model !== undefined) conditions.push(textEquals('model_name', filter.model));
  if (filter.version !== undefined) conditions.push(textEquals('model_version', filter.version));
  if (filter.route !== undefined) conditions.push(textEquals('route', filter.route));
  if (filter.protocol !== undefined) conditions.push(textEquals('protocol', filter.protocol));
  if (filter.status?.length) conditions.push(statusCondition(filter.status));
  for (const a of filter.annotations ?? []) conditions.push(annotationCondition(a));
  if (filter.requestId !== undefined) conditions.push(textEquals('request_id', filter.requestId));
  return conditions.length ? conditions.join(' AND ') : 'TRUE';
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * An instant given as ISO 8601 (`2026-05-01`, `2026-05-01T12:00:00Z`; a date alone is UTC midnight),
 * `now`, or a time before now: a number and a unit `s`, `m`, `h`, `d`, `w` (`90m`, `24h`, `7d`).
 * `name` names the option in the error message.
 */
export function parseInstant(text: string, name: string, now: Date = new Date()): Date {
  const value = text.trim();
  if (value === 'now') return now;
  const relative = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(value);
  if (relative) {
    const at = new Date(now.getTime() - Number(relative[1]) * UNITS[relative[2]!]!);
    // A Date holds ±8.64e15 ms (about 273,790 years either side of 1970): further back is not a time.
    if (Number.isNaN(at.getTime()))
      throw new InferlogConfigError(`${name} "${text}" reaches back further than a date can: give at most a few thousand years`);
    return at;
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    // A date and time without an offset is read as UTC, not as this machine's time zone.
    const withZone = /[T ]\d{2}:\d{2}/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? `${value}Z` : value;
    const ms = Date.parse(withZone.replace(' ', 'T'));
    // Date.parse rolls 2026-02-30 over into March: a date that is not on the calendar is refused.
    const [year = NaN, month = NaN, day = NaN] = value.slice(0, 10).split('-').map(Number);
    const onCalendar = month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
    if (Number.isFinite(ms) && onCalendar) return new Date(ms);
  }
  throw new InferlogConfigError(
    `${name} "${text}" is not a time: give an ISO 8601 date or time (2026-05-01, 2026-05-01T12:00:00Z) or a time before now (30m, 24h, 7d, 2w)`,
  );
}

/** A duration: a number and a unit `ms`, `s`, `m`, `h`, `d`, `w` (`500ms`, `60s`, `5m`), or plain milliseconds. */
export function parseDuration(text: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!match) throw new InferlogConfigError(`${name} "${text}" is not a duration: give a number and a unit (500ms, 30s, 5m, 1h)`);
  const n = Number(match[1]);
  return match[2] && match[2] !== 'ms' ? n * UNITS[match[2]]! : n;
}

/** Status codes, comma-separated: exact codes (`500`), classes (`4xx`, `5xx`) or `none` (no response sent). */
export function parseStatus(text: string, name = 'status'): StatusMatch[] {
  const parts = text.split(',').filter((part, i, all) => part.trim() !== '' || all.length === 1);
  return parts.map((part) => {
    const p = part.trim().toLowerCase();
    if (/^[1-5]xx$/.test(p)) return p as StatusClass;
    if (p === 'none') return 'none';
    if (/^[1-5]\d\d$/.test(p)) return Number(p);
    throw new InferlogConfigError(`${name} "${part}" is not a status: give codes (500), classes (4xx, 5xx) or none, separated by commas`);
  });
}

/**
 * An annotation filter `key=value`. The value is read as JSON when it is JSON (`3`, `true`, `{"a":1}`,
 * `"quoted text"`), else taken as text: `tenant=acme` matches `{"tenant": "acme"}`.
 */
export function parseAnnotation(text: string, name = 'annotation'): AnnotationMatch {
  const at = text.indexOf('=');
  if (at <= 0) throw new InferlogConfigError(`${name} "${text}" is not key=value (e.g. tenant=acme)`);
  const key = text.slice(0, at);
  const raw = text.slice(at + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // not JSON: the text itself
  }
  return { key, value };
}
