import type { Queryable } from '../sink/pgp';
import { filterSql, type RecordFilter } from './filter';

/** Figures of one model on one day (UTC). */
export interface DailyModelStats {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  model_name: string | null;
  /** Inferences. */
  count: number;
  /** Inferences that failed: status ≥ 400, or an error recorded (also on a 2xx stream that failed midway). */
  errors: number;
  /** errors / count. */
  error_rate: number;
  /** Median latency, ms (interpolated: PostgreSQL's percentile_cont). */
  p50_ms: number | null;
  /** 95th percentile latency, ms (interpolated). */
  p95_ms: number | null;
  /** Sum of `usage.input_tokens` over the inferences that report it. */
  input_tokens: number;
  /** Sum of `usage.output_tokens`. */
  output_tokens: number;
}

const tokens = (field: string) => `sum(CASE WHEN jsonb_typeof(usage -> '${field}') = 'number' THEN (usage ->> '${field}')::numeric END)`;

/** Count, error rate, latency p50/p95 and token totals per model and UTC day, for the records that match `filter`; by day, then model. */
export async function logStats(db: Queryable, schema: string, table: string, filter: RecordFilter = {}): Promise<DailyModelStats[]> {
  const rows = await db.any(
    `SELECT to_char(date_trunc('day', started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, model_name,
            count(*) AS count,
            count(*) FILTER (WHERE status >= 400 OR error IS NOT NULL) AS errors,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50_ms,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_ms,
            ${tokens('input_tokens')} AS input_tokens,
            ${tokens('output_tokens')} AS output_tokens
       FROM $1:name.$2:name
      WHERE $3:raw
      GROUP BY 1, 2
      ORDER BY 1, 2 NULLS LAST`,
    [schema, table, filterSql(filter)],
  );
  return rows.map((r) => {
    const count = Number(r.count);
    const errors = Number(r.errors);
    return {
      day: r.day,
      model_name: r.model_name,
      count,
      errors,
      error_rate: count ? errors / count : 0,
      p50_ms: r.p50_ms === null ? null : Number(r.p50_ms),
      p95_ms: r.p95_ms === null ? null : Number(r.p95_ms),
      input_tokens: Number(r.input_tokens ?? 0),
      output_tokens: Number(r.output_tokens ?? 0),
    };
  });
}
