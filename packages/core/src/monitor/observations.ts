// The SQL that turns records into observations: one row (window, feature id, number or category) per
// value a feature takes. One branch per kind of source, each a plain chain of set-returning functions
// and hash joins on JSON keys, so that PostgreSQL runs them in parallel workers (see tuneForScans).
import { pgp } from '../sink/pgp';
import type { ModelPlan, TensorPlan } from './plan';

/**
 * Values beyond this magnitude count as missing where they are aggregated (`bounded`): their squares
 * would overflow PostgreSQL's float8 sums and abort the query. jsonb numbers written by inferlog are
 * doubles, so the cast itself never overflows.
 */
export const MAX_MAGNITUDE = 1e150;
/** `x` when it is within MAX_MAGNITUDE, else NULL. */
export const bounded = (x: string) => `CASE WHEN abs(${x}) <= ${MAX_MAGNITUDE} THEN ${x} END`;
/**
 * A JSON value as a number: numbers; strings of up to 250 digits, which is how the writer stores
 * integers beyond ±(2^53 − 1); booleans as 1 and 0. Anything else is missing.
 */
const num = (v: string) =>
  `CASE jsonb_typeof(${v}) WHEN 'number' THEN (${v})::float8 WHEN 'boolean' THEN CASE WHEN ${v} = 'true'::jsonb THEN 1::float8 ELSE 0::float8 END WHEN 'string' THEN CASE WHEN (${v} #>> '{}') ~ '^-?[0-9]{1,250}$' THEN (${v} #>> '{}')::float8 END END`;
/** An element's text: a string's value, else its JSON. */
const text = (v: string) => `CASE jsonb_typeof(${v}) WHEN 'string' THEN ${v} #>> '{}' ELSE ${v}::text END`;
/** Every element of nested data, depth-first (row-major). */
const NESTED = `'strict $.** ? (@.type() != "array")'`;
/** A tensor's shape without its batch dimension (which it has when it has two or more dimensions). */
export const SAMPLE_SHAPE = (t: string) =>
  `CASE WHEN jsonb_typeof(${t} -> 'shape') <> 'array' THEN NULL WHEN jsonb_array_length(${t} -> 'shape') >= 2 THEN (${t} -> 'shape') - 0 ELSE ${t} -> 'shape' END`;

/** Windows of one fixed length from an origin (UTC: hours, days and Monday-based weeks all are). */
export interface WindowGrid {
  /** The first window's start, ms. */
  origin: number;
  /** Window length, ms. */
  width: number;
  count: number;
}

/** A tensor's samples as its shape says: its first dimension when it has two or more, else 1. Elements beyond samples × width belong to no position. */
const SAMPLES = (t: string) =>
  `CASE WHEN jsonb_typeof(${t} -> 'shape') = 'array' AND jsonb_array_length(${t} -> 'shape') >= 2 AND jsonb_typeof(${t} -> 'shape' -> 0) = 'number' THEN greatest(floor((${t} -> 'shape' ->> 0)::float8), 0) ELSE 1 END`;

export interface ObservationScope {
  schema: string;
  table: string;
  /** Which records (an SQL condition on the log table, alias-free). */
  where: string;
  /** The windows observations fall in (`win` is the window's index); null: none (one group, as for a reference range). */
  windows: WindowGrid | null;
  models: readonly ModelPlan[];
  tensors: readonly TensorPlan[];
  /** Only records within each model's reference range (the reference pass). */
  referenceOf?: (m: ModelPlan) => { since: Date; until: Date };
}

const values = (rows: string[], empty: string) => (rows.length ? rows.join(', ') : empty);

/** SELECT win, fid, num, cat: every observation of the planned features in the records of `scope`. */
export function observationsSql(scope: ObservationScope): string {
  const log = `${pgp.as.name(scope.schema)}.${pgp.as.name(scope.table)}`;
  const grid = scope.windows;
  // The window is joined as an index into a VALUES list, not computed as a timestamp: PostgreSQL then
  // knows there are few windows, and aggregates in its parallel workers before gathering.
  const win = grid ? 'w.i' : 'NULL::int';
  const windowJoin = grid
    ? `JOIN (VALUES ${Array.from({ length: grid.count }, (_, i) => `(${i})`).join(', ')}) w(i)
         ON w.i = floor((date_part('epoch', r.started_at) - ${grid.origin / 1000}) / ${grid.width / 1000})::int`
    : '';
  const range = (m: ModelPlan) => scope.referenceOf?.(m) ?? { since: m.first, until: m.first };
  // Joined on plain text and a null flag, which hash well (NULL never equals NULL in a hash join).
  const key = (value: string | null) => [value ?? '', value === null];
  const models = `(VALUES ${values(
    scope.models.map((m) =>
      pgp.as.format('($1::text, $2::boolean, $3::text, $4::boolean, $5::int, $6::boolean, $7::timestamptz, $8::timestamptz)', [
        ...key(m.model),
        ...key(m.version),
        m.base,
        m.usage,
        range(m).since,
        range(m).until,
      ]),
    ),
    '(NULL::text, false, NULL::text, false, 0, false, NULL::timestamptz, NULL::timestamptz)',
  )}) m(model, model_null, version, version_null, base, has_usage, ref_since, ref_until)`;
  const sameModel = (x: string) =>
    `${x}.model = coalesce(r.model_name, '') AND ${x}.model_null = (r.model_name IS NULL) AND ${x}.version = coalesce(r.model_version, '') AND ${x}.version_null = (r.model_version IS NULL)`;
  const modelJoin = `JOIN ${models} ON ${sameModel('m')}`;
  // Each model's own reference range, and all of them as constants, so that PostgreSQL reads only their partitions and blocks.
  const ranges = scope.referenceOf ? scope.models.map(range) : [];
  const span = ranges.length
    ? pgp.as.format(' AND r.started_at >= $1 AND r.started_at < $2', [
        new Date(Math.min(...ranges.map((x) => x.since.getTime()))),
        new Date(Math.max(...ranges.map((x) => x.until.getTime()))),
      ])
    : '';
  const where = `WHERE ${scope.where}${scope.referenceOf ? ` AND r.started_at >= m.ref_since AND r.started_at < m.ref_until${span}` : ''}`;
  const branches = [
    `SELECT ${win} AS win, m.base + f.i AS fid, f.num, f.cat
       FROM ${log} r ${modelJoin} ${windowJoin}
      CROSS JOIN LATERAL (VALUES
        (0, r.latency_ms, NULL::text),
        (1, NULL, coalesce(r.status::text, 'none')),
        (2, NULL, CASE WHEN jsonb_typeof(r.schema_errors) = 'array' AND jsonb_array_length(r.schema_errors) > 0 THEN 'invalid' ELSE 'valid' END),
        (3, ${num("r.usage -> 'input_tokens'")}, NULL),
        (4, ${num("r.usage -> 'output_tokens'")}, NULL),
        (5, ${num("r.usage -> 'time_to_first_token_ms'")}, NULL)
      ) f(i, num, cat)
      ${where} AND (f.i < 3 OR m.has_usage)`,
  ];
  const tensorsOf = (pick: (t: TensorPlan) => boolean) =>
    `(VALUES ${values(
      scope.tensors
        .filter(pick)
        .map((t) =>
          pgp.as.format('($1::text, $2::boolean, $3::text, $4::boolean, $5::text, $6::text, $7::text, $8::int, $9::int, $10::jsonb)', [
            ...key(t.model),
            ...key(t.version),
            t.side,
            t.name,
            t.kind,
            t.width,
            t.base,
            t.shape === null ? null : JSON.stringify(t.shape),
          ]),
        ),
      '(NULL::text, false, NULL::text, false, NULL::text, NULL::text, NULL::text, 0, 0, NULL::jsonb)',
    )}) p(model, model_null, version, version_null, side, name, kind, width, base, shape)`;
  const tensorRows = (pick: (t: TensorPlan) => boolean) => `
       FROM ${log} r${scope.referenceOf ? ` ${modelJoin}` : ''} ${windowJoin}
      CROSS JOIN LATERAL (VALUES ('inputs', r.inputs), ('outputs', r.outputs)) s(side, ts)
      CROSS JOIN LATERAL jsonb_array_elements(CASE jsonb_typeof(s.ts) WHEN 'array' THEN s.ts ELSE '[]'::jsonb END) t
       JOIN ${tensorsOf(pick)} ON p.name = t ->> 'name' AND p.side = s.side AND ${sameModel('p')}
        AND (p.kind <> 'position' OR p.shape = ${SAMPLE_SHAPE('t')})`;
  const elements = (nested: boolean) =>
    nested
      ? `jsonb_path_query(CASE jsonb_typeof(t -> 'data') WHEN 'array' THEN t -> 'data' ELSE '[]'::jsonb END, ${NESTED})`
      : `jsonb_array_elements(CASE jsonb_typeof(t -> 'data') WHEN 'array' THEN t -> 'data' ELSE '[]'::jsonb END)`;
  const elementKinds = (t: TensorPlan) => t.kind !== 'summary';
  for (const nested of [false, true]) {
    const pick = (t: TensorPlan) => elementKinds(t) && t.nested === nested;
    if (!scope.tensors.some(pick)) continue;
    branches.push(`SELECT ${win} AS win,
            p.base + CASE p.kind WHEN 'position' THEN ((e.k - 1) % p.width)::int WHEN 'text' THEN 1 ELSE 0 END AS fid,
            CASE p.kind WHEN 'position' THEN ${num('e.v')} WHEN 'category' THEN NULL ELSE char_length(${text('e.v')})::float8 END AS num,
            CASE WHEN p.kind IN ('category', 'bytes') THEN left(${text('e.v')}, 200) END AS cat
      ${tensorRows(pick)}
      CROSS JOIN LATERAL (SELECT ${SAMPLES('t')} * p.width AS elements) lim
      CROSS JOIN LATERAL ${elements(nested)} WITH ORDINALITY e(v, k)
      ${where} AND (p.kind <> 'position' OR e.k <= lim.elements)`);
  }
  if (scope.tensors.some((t) => t.kind === 'summary'))
    branches.push(`SELECT ${win} AS win, p.base + g.i AS fid, CASE g.i WHEN 0 THEN a.n ELSE a.mean END AS num, NULL::text AS cat
      ${tensorRows((t) => t.kind === 'summary')}
      CROSS JOIN LATERAL (SELECT count(*)::float8 AS n, avg(${bounded(num('l.v'))}) AS mean FROM ${elements(true)} l(v)) a
      CROSS JOIN (VALUES (0), (1)) g(i)
      ${where}`);
  return branches.join('\nUNION ALL\n');
}

/**
 * Planner settings for the monitor's scans, for the rest of its read-only transaction. PostgreSQL
 * guesses 100 rows for each set-returning function, and so keeps the element expansion out of its
 * parallel workers, memoizes JSON values it never sees twice, and compiles expressions (JIT) for
 * longer than it runs them; these settings correct for that. Allowed to any role.
 */
export const TUNE_FOR_SCANS =
  "SET LOCAL jit = off; SET LOCAL enable_memoize = off; SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; SET LOCAL work_mem = '256MB'; SET LOCAL enable_sort = off";
