// Timestamps in the canonical form at the precision PostgreSQL stores them (microseconds). A writer's
// timestamp is a JS Date, whole milliseconds, printed by toISOString (`2026-12-07T03:39:37.123Z`); so a
// stored instant on a whole millisecond prints that way, and any other prints all six digits of its
// fraction (`2026-12-07T03:39:37.123400Z`). What is not such an instant (`infinity`, or a year past
// what a JS Date holds) prints as PostgreSQL's text, verbatim: it has no `T`, so it cannot read as an
// instant's form, and the mapping stays one to one.

/** The canonical forms: toISOString's (years 0000–9999, or ±YYYYYY), with 3 digits, or 6 not ending in 000. */
const CANONICAL = /^(?:\d{4}|[+-]\d{6})-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:(?!000)\d{3})?Z$/;
/** How PostgreSQL prints a timestamptz with DateStyle ISO and TimeZone UTC: `2026-12-07 03:39:37.1234+00`, `0001-01-01 00:00:00+00 BC`. */
const STORED = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?\+00( BC)?$/;

/** The instant of PostgreSQL's text (STORED matched), as its canonical text; the text itself when a JS Date cannot hold it. */
function fromStored(text: string, m: RegExpExecArray): string {
  const year = m[8] ? 1 - Number(m[1]) : Number(m[1]);
  const micros = Number((m[7] ?? '').padEnd(6, '0'));
  const date = new Date(0);
  date.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  date.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), Math.floor(micros / 1000));
  if (Number.isNaN(date.getTime())) return text;
  const iso = date.toISOString();
  const extra = micros % 1000;
  return extra === 0 ? iso : `${iso.slice(0, -1)}${String(extra).padStart(3, '0')}Z`;
}

/**
 * A timestamp column's canonical text, from a Date (a writer's, or the driver's), PostgreSQL's text
 * (read exactly), or text already canonical (an export's). Never throws: what is no instant is its text.
 */
export function timestampText(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (typeof value === 'number') {
    // The driver's reading of 'infinity' and '-infinity'.
    if (!Number.isFinite(value)) return value > 0 ? 'infinity' : value < 0 ? '-infinity' : 'NaN';
    return timestampText(new Date(value));
  }
  const text = String(value);
  if (CANONICAL.test(text)) return text;
  const stored = STORED.exec(text);
  if (stored) return fromStored(text, stored);
  // Other ISO 8601 text (an export's line that is not canonical, a caller's string): as a Date reads it.
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}
