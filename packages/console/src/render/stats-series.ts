// The figures of `logStats` (one row per model and UTC day) arranged for the statistics page: the models
// charted (those with the most records), every day of the range on the x axis, and one series per model
// with null on the days it has no records.
import { cut, revealInvisible, type DailyModelStats } from '@inferlog/core/audit';
import type { ChartSpec } from './chart';

/** Models drawn at most: more lines than this cannot be told apart (the client's palette has 8 colours). */
export const MAX_CHARTED_MODELS = 8;

const DAY_MS = 86_400_000;
/** Characters of a model name in a chart's legend. */
const LEGEND_LABEL = 40;

/** One model's total over the range. */
export interface ModelTotal {
  model: string | null;
  records: number;
  /** Whether any of its records reports token usage (a sum above zero on some day). */
  usage: boolean;
}

/** The statistics arranged for charts and the table. */
export interface StatsLayout {
  /** The models charted and tabled, most records first. */
  charted: ModelTotal[];
  /** The models left out, most records first. */
  others: ModelTotal[];
  /** Every UTC day from the first with records to the last, `YYYY-MM-DD`. */
  days: string[];
  /** The rows of the charted models. */
  rows: DailyModelStats[];
}

/** The day after `day` (`YYYY-MM-DD`, UTC). */
export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

/** A model as the page names it: a record without a model name is `(no model name)`. */
export const modelLabel = (model: string | null): string => model ?? '(no model name)';

/** Picks the models to chart and lists the days of the range. */
export function layoutStats(stats: readonly DailyModelStats[]): StatsLayout {
  const totals = new Map<string | null, ModelTotal>();
  for (const row of stats) {
    const total = totals.get(row.model_name) ?? { model: row.model_name, records: 0, usage: false };
    total.records += row.count;
    total.usage ||= row.input_tokens > 0 || row.output_tokens > 0;
    totals.set(row.model_name, total);
  }
  const ranked = [...totals.values()].sort(
    (a, b) => b.records - a.records || (a.model === null ? 1 : b.model === null ? -1 : a.model < b.model ? -1 : a.model > b.model ? 1 : 0),
  );
  const charted = ranked.slice(0, MAX_CHARTED_MODELS);
  const shown = new Set(charted.map((m) => m.model));
  const days: string[] = [];
  if (stats.length) {
    // logStats orders by day: the range runs from the first row's day to the last's.
    const last = stats.at(-1)!.day;
    for (let day = stats[0]!.day; day <= last; day = nextDay(day)) days.push(day);
  }
  return { charted, others: ranked.slice(MAX_CHARTED_MODELS), days, rows: stats.filter((r) => shown.has(r.model_name)) };
}

/** Rounded for the chart's legend: figures are read, not computed with. */
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The page's charts: requests, error rate, p50 and p95 latency per day, and tokens when a charted model reports usage. */
export function statsCharts(layout: StatsLayout): { id: string; spec: ChartSpec }[] {
  const x = layout.days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  const byKey = new Map(layout.rows.map((r) => [JSON.stringify([r.model_name, r.day]), r]));
  const series = (models: readonly ModelTotal[], value: (r: DailyModelStats) => number | null) =>
    models.map((m) => ({
      // Cut: the legend has a line per model; the table below names it in full (up to its own cut).
      // Shown as escapes: uPlot writes the label as text, where a direction override would turn the line around.
      label: cut(revealInvisible(modelLabel(m.model)), LEGEND_LABEL),
      values: layout.days.map((day) => {
        const row = byKey.get(JSON.stringify([m.model, day]));
        return row ? value(row) : null;
      }),
    }));
  const charts: { id: string; spec: ChartSpec }[] = [
    {
      id: 'chart-requests',
      spec: {
        title: 'Requests per day',
        unit: 'records',
        x,
        bars: layout.charted.length === 1,
        series: series(layout.charted, (r) => r.count),
      },
    },
    {
      id: 'chart-errors',
      spec: { title: 'Error rate per day', unit: '%', x, series: series(layout.charted, (r) => round(r.error_rate * 100, 2)) },
    },
    {
      id: 'chart-p50',
      spec: {
        title: 'Latency p50 per day',
        unit: 'ms',
        x,
        series: series(layout.charted, (r) => (r.p50_ms === null ? null : round(r.p50_ms, 2))),
      },
    },
    {
      id: 'chart-p95',
      spec: {
        title: 'Latency p95 per day',
        unit: 'ms',
        x,
        series: series(layout.charted, (r) => (r.p95_ms === null ? null : round(r.p95_ms, 2))),
      },
    },
  ];
  const reporting = layout.charted.filter((m) => m.usage);
  if (reporting.length)
    charts.push(
      {
        id: 'chart-input-tokens',
        spec: { title: 'Input tokens per day', unit: 'tokens', x, series: series(reporting, (r) => r.input_tokens) },
      },
      {
        id: 'chart-output-tokens',
        spec: { title: 'Output tokens per day', unit: 'tokens', x, series: series(reporting, (r) => r.output_tokens) },
      },
    );
  return charts;
}
