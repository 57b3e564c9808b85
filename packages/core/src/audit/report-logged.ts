import type { Queryable } from '../sink/pgp';
import { filterSql } from './filter';
import { logStats, type DailyModelStats } from './stats';

/** Figures of all the records of a period, or of one model's: those `logStats` gives a day, over the period. */
export interface LoggedFigures extends Omit<DailyModelStats, 'day' | 'model_name' | 'count'> {
  /** Inferences that started in the period. */
  inferences: number;
  /** The earliest and latest `started_at` (ISO 8601 UTC); null without records. */
  first_started_at: string | null;
  last_started_at: string | null;
}

/** One model's figures over the period. */
export interface ModelFigures extends LoggedFigures {
  model_name: string | null;
}

/** How many inferences (and failed ones) had one value of a column: a protocol, a route, a status class. */
export interface ValueCount {
  /** The value; null where the column was null (no route matched, no response sent). */
  value: string | null;
  inferences: number;
  errors: number;
}

/** A breakdown listed up to a limit, largest first, with what the limit left out. */
export interface Breakdown {
  values: ValueCount[];
  /** Distinct values beyond the limit, and the inferences they had together. */
  others: { values: number; inferences: number };
}

/** What was logged in a period. */
export interface LoggedSection {
  totals: LoggedFigures;
  /** Per model, most inferences first (at most {@link BREAKDOWN_LIMIT}; `models_beyond_limit` counts the rest). */
  by_model: ModelFigures[];
  /** Distinct models beyond the limit of `by_model`. */
  models_beyond_limit: number;
  /** Per UTC day and model (`logStats`): by day, then model. */
  daily: DailyModelStats[];
  by_protocol: Breakdown;
  /** By the matched route pattern (`/v2/models/:model/infer`). */
  by_route: Breakdown;
  /** By status class: `2xx` … `5xx`, or `none` where no response was sent. */
  by_status: Breakdown;
  /** Inferences the client aborted before the response ended. */
  aborted: number;
}

/**
 * How many values a breakdown lists. Model names and routes can come from clients (a model name in the
 * path); the report stays readable, and its size bounded, whatever they sent.
 */
export const BREAKDOWN_LIMIT = 100;

const tokens = (field: string) => `sum(CASE WHEN jsonb_typeof(usage -> '${field}') = 'number' THEN (usage ->> '${field}')::numeric END)`;
const FAILED = 'status >= 400 OR error IS NOT NULL';

function figures(r: Record<string, unknown>): LoggedFigures {
  const inferences = Number(r.inferences);
  const errors = Number(r.errors);
  return {
    inferences,
    errors,
    error_rate: inferences ? errors / inferences : 0,
    p50_ms: r.p50_ms === null ? null : Number(r.p50_ms),
    p95_ms: r.p95_ms === null ? null : Number(r.p95_ms),
    input_tokens: Number(r.input_tokens ?? 0),
    output_tokens: Number(r.output_tokens ?? 0),
    first_started_at: r.first_started_at ? (r.first_started_at as Date).toISOString() : null,
    last_started_at: r.last_started_at ? (r.last_started_at as Date).toISOString() : null,
  };
}

function largestFirst<T extends { inferences: number }>(list: T[], key: (item: T) => string | null): T[] {
  return list.sort((a, b) => b.inferences - a.inferences || String(key(a) ?? '').localeCompare(String(key(b) ?? '')));
}

function breakdown(values: ValueCount[]): Breakdown {
  const sorted = largestFirst(values, (v) => v.value);
  const rest = sorted.slice(BREAKDOWN_LIMIT);
  return {
    values: sorted.slice(0, BREAKDOWN_LIMIT),
    others: { values: rest.length, inferences: rest.reduce((n, v) => n + v.inferences, 0) },
  };
}

/**
 * What was logged between `since` (inclusive) and `until` (exclusive): totals and per model (one
 * statement, grouping sets), per protocol, route and status class (one statement, hashed), and per day
 * and model (`logStats`). Every statement is bounded by `started_at`, so PostgreSQL reads only the
 * partitions of the period.
 */
export async function loggedIn(t: Queryable, schema: string, table: string, since: Date, until: Date): Promise<LoggedSection> {
  const period = filterSql({ since, until });
  const byModel = await t.any(
    `SELECT GROUPING(model_name) = 1 AS total, model_name,
            count(*) AS inferences,
            count(*) FILTER (WHERE ${FAILED}) AS errors,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50_ms,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_ms,
            ${tokens('input_tokens')} AS input_tokens,
            ${tokens('output_tokens')} AS output_tokens,
            min(started_at) AS first_started_at, max(started_at) AS last_started_at
       FROM $1:name.$2:name
      WHERE $3:raw
      GROUP BY GROUPING SETS ((), (model_name))`,
    [schema, table, period],
  );
  const totalRow = byModel.find((r) => r.total);
  const models = largestFirst(
    byModel.filter((r) => !r.total).map((r) => ({ model_name: r.model_name as string | null, ...figures(r) })),
    (m) => m.model_name,
  );
  const counts = await t.any(
    `SELECT GROUPING(protocol) = 0 AS is_protocol, GROUPING(route) = 0 AS is_route, GROUPING(status_class) = 0 AS is_status,
            protocol, route, status_class, count(*) AS inferences, count(*) FILTER (WHERE failed) AS errors,
            count(*) FILTER (WHERE aborted) AS aborted
       FROM (SELECT protocol, route, aborted, ${FAILED} AS failed,
                    CASE WHEN status IS NULL THEN 'none' ELSE (status / 100)::text || 'xx' END AS status_class
               FROM $1:name.$2:name WHERE $3:raw) r
      GROUP BY GROUPING SETS ((protocol), (route), (status_class))`,
    [schema, table, period],
  );
  const of = (flag: string, column: string): ValueCount[] =>
    counts.filter((r) => r[flag]).map((r) => ({ value: r[column], inferences: Number(r.inferences), errors: Number(r.errors) }));
  return {
    totals: totalRow
      ? figures(totalRow)
      : figures({ inferences: 0, errors: 0, p50_ms: null, p95_ms: null, first_started_at: null, last_started_at: null }),
    by_model: models.slice(0, BREAKDOWN_LIMIT),
    models_beyond_limit: Math.max(0, models.length - BREAKDOWN_LIMIT),
    daily: await logStats(t, schema, table, { since, until }),
    by_protocol: breakdown(of('is_protocol', 'protocol')),
    by_route: breakdown(of('is_route', 'route')),
    by_status: breakdown(of('is_status', 'status_class')),
    aborted: counts.filter((r) => r.is_protocol).reduce((n, r) => n + Number(r.aborted), 0),
  };
}
