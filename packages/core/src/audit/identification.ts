import { normalize } from '../chain/canonical';
import { InferlogConfigError } from '../errors';
import { logTableNames } from '../sink/names';
import type { Database, Queryable } from '../sink/pgp';
import { filterSql, type RecordFilter } from './filter';
import { afterSql, decodeCursor, encodeCursor, POSITION_SQL } from './query';
import type { EventRow } from './rows';
import type { Snapshot } from './cursor';

// AI Act Art. 12(3) and 14(5), for remote biometric identification systems (Annex III 1(a)). The
// application annotates an identification with `annotations.identification = { reference_database,
// match, … }`; the people who verified a result are the distinct actors of the oversight events of type
// `human_review` or `second_verifier` about it (subject = its id or request id). The rule is written
// twice, once in SQL for the log (`checkIdentifications`, `countIdentifications`) and once in JS for one
// inference and its events (`identificationOf`, which `show` uses); test/identification.test.ts holds
// both to the same answers.

/** Oversight event types whose actor counts as a person who verified an identification (Art. 12(3)(d), 14(5)). */
export const VERIFIER_EVENT_TYPES = ['human_review', 'second_verifier'] as const;

/** Distinct verifiers a match needs before anything is done on its basis (Art. 14(5)). */
export const VERIFIERS_REQUIRED = 2;

/** Most verifiers a row of `checkIdentifications` lists (`verifier_count` counts them all). */
export const VERIFIERS_LISTED = 20;

/**
 * Why an identification fails the check:
 * - `match_not_boolean`: `identification.match` is not `true` or `false` (or `identification` is not an
 *   object), so the log cannot tell whether the search led to a match (12(3)(c));
 * - `no_reference_database`: `identification.reference_database` is not a string with a character other
 *   than white space, so the log does not say what the input was checked against (12(3)(b));
 * - `fewer_than_two_verifiers`: a match (`match: true`) with fewer than two distinct verifiers (12(3)(d), 14(5)).
 */
export type IdentificationProblem = 'match_not_boolean' | 'no_reference_database' | 'fewer_than_two_verifiers';

/** An inference's identification as the log shows it, judged: what `showInference` adds to an inference. */
export interface IdentificationView {
  /** `annotations.identification.reference_database`; null when it is missing, blank or not a string. */
  reference_database: string | null;
  /** `annotations.identification.match`; null when it is not a boolean. */
  match: boolean | null;
  /** The distinct actors of its `human_review` and `second_verifier` events, in code point order. */
  verifiers: string[];
  /** Distinct verifiers a match needs: `VERIFIERS_REQUIRED` (2). */
  required: number;
  /** True when nothing is wrong: a reference database is named and the match is a boolean, and a match has `required` verifiers. */
  satisfied: boolean;
  /** What is wrong, in the order of `IdentificationProblem`; empty when `satisfied`. */
  problems: IdentificationProblem[];
}

/** One identification that fails the check, as `checkIdentifications` lists it. */
export interface IdentificationFinding {
  id: string;
  request_id: string;
  /** ISO 8601 UTC, as in the record's canonical form. */
  started_at: string;
  model_name: string | null;
  /** As in `IdentificationView`. */
  reference_database: string | null;
  /** As in `IdentificationView`. */
  match: boolean | null;
  /** Distinct verifiers (actors of `human_review` and `second_verifier` events about it). */
  verifier_count: number;
  /** The first `VERIFIERS_LISTED` of them, in code point order. */
  verifiers: string[];
  /** What is wrong; never empty. */
  problems: IdentificationProblem[];
}

/** A page of failing identifications, oldest first, and the cursor of the next page (null on the last page). */
export interface IdentificationPage {
  rows: IdentificationFinding[];
  /** Pass as `after` for the next page; the same cursor form as `queryRecords`' (`<started_at>/<id>`). */
  next: string | null;
}

/** Options of `checkIdentifications`. */
export interface IdentificationCheckOptions {
  /** Rows per page (1..10000). Default 50. */
  limit?: number;
  /** The `next` of a previous page: this page starts right after its last row. */
  after?: string;
}

/** How the identifications among the records that match a filter fare: inferences, not events. */
export interface IdentificationCounts {
  /** Inferences annotated with an `identification` (any shape; `identification: null` is none). */
  total: number;
  /** Of these, positive results: `match: true`. */
  matches: number;
  /** Matches with fewer than two distinct verifiers. */
  under_verified: number;
  /** Identifications without a reference database (matches or not). */
  without_reference_database: number;
  /** Identifications whose `match` is not a boolean. */
  match_not_boolean: number;
  /** Identifications with at least one problem: what `checkIdentifications` lists. */
  failing: number;
}

// --- the rule in JS, for one inference and its events ---

/**
 * What two spellings of one person may differ in, left out before actors are compared (as code point
 * ranges): every default-ignorable code point (zero-width spaces and joiners, soft hyphens, direction
 * marks, variation selectors, tag characters), white space and the braille blank, and the combining
 * marks of the main combining blocks (the text is decomposed first, so "é" is "e" and its accent).
 */
const NOT_PART_OF_A_NAME: readonly [number, number][] = [
  // default-ignorable code points (Unicode 15)
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x061c, 0x061c],
  [0x115f, 0x1160],
  [0x17b4, 0x17b5],
  [0x180b, 0x180f],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x206f],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
  [0xfff0, 0xfff8],
  [0x1bca0, 0x1bca3],
  [0x1d173, 0x1d17a],
  [0xe0000, 0xe0fff],
  // white space, and the braille blank that shows as one
  [0x0009, 0x000d],
  [0x0020, 0x0020],
  [0x0085, 0x0085],
  [0x00a0, 0x00a0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x2800, 0x2800],
  [0x3000, 0x3000],
  // combining marks
  [0x0300, 0x036f],
  [0x1ab0, 0x1aff],
  [0x1dc0, 0x1dff],
  [0x20d0, 0x20ff],
  [0xfe20, 0xfe2f],
];
const hex = (cp: number, width: number) => cp.toString(16).toUpperCase().padStart(width, '0');
/** The ranges as a bracket expression: JavaScript's `\u{…}` (with the `u` flag), PostgreSQL's `\uXXXX` / `\UXXXXXXXX`. */
const bracket = (written: (cp: number) => string) =>
  `[${NOT_PART_OF_A_NAME.map(([a, b]) => (a === b ? written(a) : `${written(a)}-${written(b)}`)).join('')}]`;
const NOT_PART_OF_A_NAME_JS = new RegExp(
  bracket((cp) => `\\u{${hex(cp, 4)}}`),
  'gu',
);
const NOT_PART_OF_A_NAME_SQL = bracket((cp) => (cp > 0xffff ? `\\U${hex(cp, 8)}` : `\\u${hex(cp, 4)}`));

/**
 * Who a verifier is, for counting distinct persons (Art. 14(5)): the actor in NFKD, without the characters
 * above, ASCII letters in lower case. "alice", "Alice", "alice\u200b" and "Alicé" are one person. The SQL
 * (`verifierKeySql`) computes the same: `normalize(…, NFKD)` and `lower()` under the "C" collation, which
 * folds ASCII letters only. Empty: not a verifier. A person is shown as the first of their spellings in
 * code point order. Left as they are: letters of other scripts that look alike ("а" Cyrillic, "a" Latin)
 * and case outside ASCII: take the actor from the authenticated request (the event route's `actor`
 * option), not from what a reviewer types.
 */
export function verifierKey(actor: string): string {
  return actor
    .normalize('NFKD')
    .replace(NOT_PART_OF_A_NAME_JS, '')
    .replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Text with a character other than ASCII white space; SQL: `~ '[^ \t\n\r\f\v]'`. */
const NOT_BLANK = /[^ \t\n\r\f\v]/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const byCodePoints = (a: string, b: string): number => {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++)
    if (x[i] !== y[i]) return (x[i]!.codePointAt(0) ?? 0) - (y[i]!.codePointAt(0) ?? 0);
  return x.length - y.length;
};

/** The problems of an identification, in `IdentificationProblem` order. */
function problemsOf(match: boolean | null, referenceDatabase: string | null, verifiers: number): IdentificationProblem[] {
  const problems: IdentificationProblem[] = [];
  if (match === null) problems.push('match_not_boolean');
  if (referenceDatabase === null) problems.push('no_reference_database');
  if (match === true && verifiers < VERIFIERS_REQUIRED) problems.push('fewer_than_two_verifiers');
  return problems;
}

/**
 * The identification of one inference, judged, from its `annotations` and its oversight events (those
 * whose subject is its id or request id, as `showInference` finds them); null when it is not annotated
 * as an identification (no `annotations.identification`, or null).
 */
export function identificationOf(annotations: unknown, events: readonly Pick<EventRow, 'type' | 'actor'>[]): IdentificationView | null {
  const identification = isObject(annotations) ? annotations.identification : undefined;
  if (identification === undefined || identification === null) return null;
  const fields = isObject(identification) ? identification : {};
  const match = typeof fields.match === 'boolean' ? fields.match : null;
  const reference =
    typeof fields.reference_database === 'string' && NOT_BLANK.test(fields.reference_database) ? fields.reference_database : null;
  // One per person (its key), shown as the first of its spellings in code point order.
  const persons = new Map<string, string>();
  for (const e of events) {
    if (!(VERIFIER_EVENT_TYPES as readonly string[]).includes(e.type) || typeof e.actor !== 'string') continue;
    const key = verifierKey(e.actor);
    const seen = persons.get(key);
    if (key !== '' && (seen === undefined || byCodePoints(e.actor, seen) < 0)) persons.set(key, e.actor);
  }
  const verifiers = [...persons.values()].sort(byCodePoints);
  const problems = problemsOf(match, reference, verifiers.length);
  return { reference_database: reference, match, verifiers, required: VERIFIERS_REQUIRED, satisfied: problems.length === 0, problems };
}

// --- the rule in SQL, for the log ---

/** The identification of record `r`, when it has one (the SQL of `identificationOf`'s first lines). */
const IDENTIFIED = `jsonb_typeof(r.annotations -> 'identification') <> 'null'`;
/** Text with a character other than ASCII white space (`NOT_BLANK`). */
const NOT_BLANK_SQL = `~ '[^ \\t\\n\\r\\f\\v]'`;
/** `verifierKey` in SQL, of the text expression `actor`. */
export const verifierKeySql = (actor: string): string =>
  `lower(regexp_replace(normalize(${actor}, NFKD), '${NOT_PART_OF_A_NAME_SQL}', '', 'g') COLLATE "C")`;
const VERIFIER_KEY_SQL = verifierKeySql('e.actor');

/**
 * The identifications among the records `where` selects, judged: id, request_id, started_at, model_name,
 * `match` (null unless a JSON boolean), `reference_database` (null unless a string with a character other
 * than white space) and `actors`, the distinct verifiers in code point order. The events are looked up by
 * subject (hash index) = its id or its request id, and only for the identifications the check can name:
 * a non-match that names its reference database passes whoever verified it (its `actors` is null), and most
 * searches of a watchlist find no match. `OFFSET 0` keeps the subquery whole, so the lookup runs once per
 * row rather than once per reference to `actors`.
 */
function judgedSql(records: string, events: string, where: string): string {
  // Containment and path lookups read the stored jsonb in place; a chain of -> copies the identification
  // object out of it once per use.
  const match = `CASE WHEN r.annotations @> '{"identification":{"match":true}}' THEN true
                      WHEN r.annotations @> '{"identification":{"match":false}}' THEN false END`;
  const path = `'{identification,reference_database}'`;
  const reference = `CASE WHEN jsonb_typeof(r.annotations #> ${path}) = 'string' AND (r.annotations #>> ${path}) ${NOT_BLANK_SQL}
                          THEN r.annotations #>> ${path} END`;
  return `(
    SELECT judged.*,
           CASE WHEN judged.match IS NOT FALSE OR judged.reference_database IS NULL THEN (
             SELECT array_agg(p.actor ORDER BY p.actor)
               FROM (SELECT min(e.actor COLLATE "C") AS actor
                       FROM ${events} e
                      WHERE (e.subject = judged.id::text OR e.subject = judged.request_id)
                        AND e.type IN (${VERIFIER_EVENT_TYPES.map((t) => `'${t}'`).join(', ')})
                        AND e.actor IS NOT NULL
                      GROUP BY ${VERIFIER_KEY_SQL}
                     HAVING ${VERIFIER_KEY_SQL} <> '') p
           ) END AS actors
      FROM (SELECT r.id, r.request_id, r.started_at, r.model_name, ${match} AS match, ${reference} AS reference_database
              FROM ${records} r
             WHERE ${where} AND ${IDENTIFIED}
            OFFSET 0) judged
    OFFSET 0
  ) c`;
}

const VERIFIER_COUNT = 'coalesce(cardinality(c.actors), 0)';
const UNDER_VERIFIED = `(c.match AND ${VERIFIER_COUNT} < ${VERIFIERS_REQUIRED})`;
const FAILING = `(c.match IS NULL OR c.reference_database IS NULL OR ${UNDER_VERIFIED})`;

function tableSql(schema: string, table: string): { records: string; events: string } {
  const names = logTableNames(schema, table);
  const quote = (name: string) => `"${name}"`;
  return { records: `${quote(schema)}.${quote(table)}`, events: `${quote(schema)}.${quote(names.events)}` };
}

/**
 * Runs the check's one statement with JIT compilation off. The planner prices the events lookup for every
 * row, not only for those the CASE lets through, so on a large range it compiles the query: about 1.2 s
 * spent on a 1M-row range whose scan takes 2–3 s, and nothing gained (the work is jsonb lookups and index probes).
 */
function withoutJit<T>(db: Database | Snapshot, read: (t: Queryable) => Promise<T>): Promise<T> {
  return db.tx({ mode: null }, async (t) => {
    await t.none('SET LOCAL jit = off');
    return read(t);
  });
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw new InferlogConfigError(`limit must be a whole number from 1 to 10000; got ${limit}`);
}

/**
 * The identifications among the records that match `filter` that fail Art. 12(3)/14(5): matches with
 * fewer than two distinct verifiers, identifications that name no reference database, and those whose
 * `match` is not a boolean (`IdentificationProblem`). Oldest first, one page at a time (keyset on
 * (started_at, id), as `queryRecords`): pass the page's `next` as `after` for the next one. Reads the
 * filter's time range (BRIN index, partition pruning) and looks up each identification's events by subject.
 */
export async function checkIdentifications(
  db: Database | Snapshot,
  schema: string,
  table: string,
  filter: RecordFilter = {},
  options: IdentificationCheckOptions = {},
): Promise<IdentificationPage> {
  const limit = options.limit ?? 50;
  checkLimit(limit);
  const { records, events } = tableSql(schema, table);
  const after = options.after === undefined ? 'TRUE' : afterSql(decodeCursor(options.after));
  const found = await withoutJit(db, (t) =>
    t.any(
      `SELECT c.id, c.request_id, c.started_at, c.model_name, ${POSITION_SQL} AS inferlog_position, c.match, c.reference_database,
            ${VERIFIER_COUNT} AS verifier_count, c.actors[1:${VERIFIERS_LISTED}] AS verifiers
       FROM ${judgedSql(records, events, '$1:raw AND $2:raw')}
      WHERE ${FAILING}
      ORDER BY c.started_at, c.id
      LIMIT $3`,
      [filterSql(filter), after, limit + 1],
    ),
  );
  const rows: IdentificationFinding[] = found.slice(0, limit).map((r) => {
    const match = r.match as boolean | null;
    const reference = r.reference_database as string | null;
    const verifiers = ((r.verifiers as string[] | null) ?? []).sort(byCodePoints);
    return {
      id: r.id,
      request_id: normalize('text', r.request_id) as string,
      started_at: normalize('timestamp', r.started_at) as string,
      model_name: normalize('text', r.model_name) as string | null,
      reference_database: reference,
      match,
      verifier_count: r.verifier_count,
      verifiers,
      problems: problemsOf(match, reference, r.verifier_count),
    };
  });
  const last = found.length > limit ? found[limit - 1] : undefined;
  return { rows, next: last ? encodeCursor({ at: last.inferlog_position, id: last.id }) : null };
}

/** How many of the records that match `filter` are identifications, matches, and fail the check, by problem (one read of the range). */
export async function countIdentifications(
  db: Database | Snapshot,
  schema: string,
  table: string,
  filter: RecordFilter = {},
): Promise<IdentificationCounts> {
  const { records, events } = tableSql(schema, table);
  const [row] = await withoutJit(db, (t) =>
    t.any(
      `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE c.match)::int AS matches,
            count(*) FILTER (WHERE ${UNDER_VERIFIED})::int AS under_verified,
            count(*) FILTER (WHERE c.reference_database IS NULL)::int AS without_reference_database,
            count(*) FILTER (WHERE c.match IS NULL)::int AS match_not_boolean,
            count(*) FILTER (WHERE ${FAILING})::int AS failing
       FROM ${judgedSql(records, events, '$1:raw')}`,
      [filterSql(filter)],
    ),
  );
  return row as IdentificationCounts;
}
