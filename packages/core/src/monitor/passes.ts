// The two passes PostgreSQL makes over the records: the reference's percentiles and categories, then
// every window's counts on the fine grid those give (and its categories), with moments per bucket.
import { pgp, type Queryable } from '../sink/pgp';
import { PERCENTILES } from './drift';
import { entry } from './entry';
import { bounded, MAX_MAGNITUDE, observationsSql, type ObservationScope } from './observations';

/** What the reference pass found of one feature. */
export interface ReferenceFacts {
  /** Numeric: the 1–99 % percentiles of its values. */
  percentiles?: number[];
  /** Categorical: its most frequent values (at most maxCategories + 1, most frequent first). */
  categories?: { value: string; count: number }[];
}

/** Percentiles of numeric features and the most frequent values of categorical ones, in each model's reference range. */
export async function readReference(db: Queryable, scope: ObservationScope, maxCategories: number): Promise<Map<number, ReferenceFacts>> {
  // One expansion of the reference's records for both answers. Bitmap scans off: a log's BRIN index on
  // started_at is summarised only by VACUUM, and an unsummarised one makes PostgreSQL read the whole
  // partition once per joined row.
  await db.none('SET LOCAL enable_bitmapscan = off');
  const rows = await db.any(
    // The observations go in as a raw parameter: formatted again, a `$1` in a model or tensor name would be taken for a parameter.
    `WITH o AS MATERIALIZED ($3:raw)
     SELECT fid, NULL::text AS cat, count(num) AS n, percentile_cont($1::float8[]) WITHIN GROUP (ORDER BY num) AS q
       FROM o WHERE abs(num) <= ${MAX_MAGNITUDE} GROUP BY fid
     UNION ALL
     SELECT fid, cat, n, NULL FROM (
       SELECT fid, cat, count(*) AS n, row_number() OVER (PARTITION BY fid ORDER BY count(*) DESC, cat) AS rank
         FROM o WHERE cat IS NOT NULL GROUP BY fid, cat
     ) ranked WHERE rank <= $2`,
    [PERCENTILES, maxCategories + 1, observationsSql(scope)],
  );
  await db.none('SET LOCAL enable_bitmapscan = on');
  const facts = new Map<number, ReferenceFacts>();
  for (const r of rows) {
    const f = entry(facts, r.fid, (): ReferenceFacts => ({}));
    if (r.cat === null) f.percentiles = (r.q as (number | string)[]).map(Number);
    else {
      f.categories ??= [];
      f.categories.push({ value: r.cat, count: Number(r.n) });
    }
  }
  for (const f of facts.values()) f.categories?.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
  return facts;
}

/** One bucket of a window's fine histogram, with the moments of its values. */
export interface Bucket {
  n: number;
  mean: number;
  variance: number;
  min: number;
  max: number;
}

/** What the window pass found of one feature in one window. */
export interface WindowFacts {
  /** Observations, values missing or not numbers included. */
  observed: number;
  /** Numeric values. */
  valid: number;
  /** Numeric: per fine bucket (-1: the feature has no grid). */
  buckets: Map<number, Bucket>;
  /** Categorical: counts of the reference's categories. */
  categories: Map<string, number>;
  /** Categorical: values outside the reference's categories. */
  other: number;
}

/** Per window start (ms; -1 for a window-less pass) and feature id, the facts of the observations in `scope`. */
export async function readWindows(
  db: Queryable,
  scope: ObservationScope,
  edges: ReadonlyMap<number, number[]>,
  categories: ReadonlyMap<number, string[]>,
): Promise<Map<number, Map<number, WindowFacts>>> {
  // One list for both, joined once per observation: a numeric feature's grid, a categorical one's categories.
  const bins = [...new Set([...edges.keys(), ...categories.keys()])].map((fid) =>
    pgp.as.format('($1::int, $2::float8[], $3::text[])', [fid, edges.get(fid) ?? null, categories.get(fid) ?? null]),
  );
  // Run without parameters: the observations hold client text (names) that a second formatting would misread.
  const rows = await db.any(
    `SELECT o.win, o.fid,
            CASE WHEN o.num IS NULL THEN NULL ELSE coalesce(width_bucket(o.num, b.edges), -1) END AS bucket,
            CASE WHEN o.cat = ANY(b.cats) THEN o.cat END AS cat,
            (o.cat IS NOT NULL AND o.cat <> ALL(coalesce(b.cats, '{}'::text[]))) AS other,
            count(*) AS n, count(o.num) AS valid, avg(o.num) AS mean, var_pop(o.num) AS variance, min(o.num) AS min, max(o.num) AS max
       FROM (SELECT win, fid, ${bounded('num')} AS num, cat FROM (${observationsSql(scope)}) x) o
       LEFT JOIN (VALUES ${bins.length ? bins.join(', ') : '(NULL::int, NULL::float8[], NULL::text[])'}) b(fid, edges, cats) ON b.fid = o.fid
      GROUP BY 1, 2, 3, 4, 5`,
  );
  const out = new Map<number, Map<number, WindowFacts>>();
  for (const r of rows) {
    const key = r.win === null || !scope.windows ? -1 : scope.windows.origin + r.win * scope.windows.width;
    const window = entry(out, key, () => new Map<number, WindowFacts>());
    const f = entry(
      window,
      r.fid as number,
      (): WindowFacts => ({ observed: 0, valid: 0, buckets: new Map(), categories: new Map(), other: 0 }),
    );
    const n = Number(r.n);
    const valid = Number(r.valid);
    f.observed += n;
    f.valid += valid;
    if (r.bucket !== null && valid > 0)
      f.buckets.set(r.bucket, { n: valid, mean: Number(r.mean), variance: Number(r.variance), min: Number(r.min), max: Number(r.max) });
    if (r.cat !== null) f.categories.set(r.cat, n);
    if (r.other) f.other += n;
  }
  return out;
}
