// Model quality from ground truth: each inference's latest `ground_truth` event (by its id or request
// id) joined to it in PostgreSQL, streamed through a cursor, its output turned into a prediction by the
// declared rule, and counted per window: bounded memory on any number of labels.
import { forEachRowIn, type Snapshot } from '../audit/cursor';
import { elementsPerSample, firstLeaves } from '../protocols/oip-v2/tensor-data';
import { entry } from './entry';
import { MAX_MAGNITUDE } from './observations';
import type { MonitorWindow, NormalizedMonitorOptions } from './options';

/** Quality figures of one window (or of the reference). */
export interface QualityFigures {
  /** Labelled inferences whose prediction could be made. */
  labelled: number;
  /** Labelled inferences with no usable output or label (no such tensor, not a number, …). */
  unusable: number;
  /** Classification: share of predictions equal to the label. */
  accuracy?: number;
  /** Classification: precision, recall and F1 of the positive class (two classes), else their macro averages. */
  precision?: number;
  recall?: number;
  f1?: number;
  /** Regression: mean absolute and root mean square error. */
  mae?: number;
  rmse?: number;
  /** Regression: standard deviation of the squared errors (for the test of a rise in RMSE). */
  squared_error_sd?: number;
}

interface Tally {
  labelled: number;
  unusable: number;
  correct: number;
  classes: Map<string, { tp: number; fp: number; fn: number }>;
  absolute: number;
  squared: number;
  /** Sum of the squared errors squared. */
  fourth: number;
}

const tally = (): Tally => ({ labelled: 0, unusable: 0, correct: 0, classes: new Map(), absolute: 0, squared: 0, fourth: 0 });

/** The first sample's elements of a tensor: shape[0] is the batch when the shape has two or more dimensions. */
export function firstSample(tensor: unknown): number[] | null {
  if (typeof tensor !== 'object' || tensor === null) return null;
  const { data, shape } = tensor as { data?: unknown; shape?: unknown };
  // A shape without a batch dimension (or none that reads) leaves the whole data one sample.
  const width = Array.isArray(shape) && shape.length >= 2 ? elementsPerSample(shape) : null;
  const flat = firstLeaves(data, width ?? Number.POSITIVE_INFINITY);
  // Booleans as 1 and 0; digit strings are how the writer stores integers beyond ±(2^53 − 1).
  const sample = flat.map((v) => (typeof v === 'boolean' ? Number(v) : typeof v === 'string' && /^-?\d{1,250}$/.test(v) ? Number(v) : v));
  return sample.every(usable) ? (sample as number[]) : null;
}

/** A number the figures can square and sum (see MAX_MAGNITUDE). */
const usable = (v: unknown): v is number => typeof v === 'number' && Math.abs(v) <= MAX_MAGNITUDE;

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** The predicted class (or value) of an output tensor under `rule`; null when the output does not allow one. */
export function predict(tensor: unknown, rule: NormalizedMonitorOptions['prediction']): string | number | null {
  const sample = firstSample(tensor);
  if (!sample || sample.length === 0) return null;
  if (rule.kind === 'argmax') {
    let best = 0;
    for (let i = 1; i < sample.length; i++) if (sample[i]! > sample[best]!) best = i;
    return text(rule.classes?.[best] ?? best);
  }
  const value = sample[rule.position];
  if (value === undefined) return null;
  if (rule.kind === 'regression') return value;
  return text(value >= rule.threshold ? (rule.classes?.[1] ?? 1) : (rule.classes?.[0] ?? 0));
}

/** A label as the rule compares it: text for classes (true/false as the positive/negative class of a threshold rule), a number for regression. */
function labelOf(label: unknown, rule: NormalizedMonitorOptions['prediction']): string | number | null {
  if (rule.kind === 'regression') return usable(label) ? label : null;
  if (label === null || label === undefined || typeof label === 'object') return null;
  if (typeof label === 'number' && !usable(label)) return null;
  if (typeof label === 'boolean' && rule.kind === 'threshold') return text(label ? (rule.classes?.[1] ?? 1) : (rule.classes?.[0] ?? 0));
  if (typeof label === 'boolean') return label ? '1' : '0';
  return text(label);
}

const MAX_CLASSES = 1000;

function count(t: Tally, predicted: string | number | null, actual: string | number | null): void {
  if (predicted === null || actual === null) {
    t.unusable++;
    return;
  }
  t.labelled++;
  if (typeof predicted === 'number' && typeof actual === 'number') {
    t.absolute += Math.abs(predicted - actual);
    t.squared += (predicted - actual) ** 2;
    t.fourth += (predicted - actual) ** 4;
    return;
  }
  const p = String(predicted);
  const a = String(actual);
  if (p === a) t.correct++;
  // Labels come from clients: past MAX_CLASSES distinct ones, the others still count for accuracy only.
  const cls = (c: string) =>
    t.classes.has(c) || t.classes.size < MAX_CLASSES ? entry(t.classes, c, () => ({ tp: 0, fp: 0, fn: 0 })) : { tp: 0, fp: 0, fn: 0 };
  if (p === a) cls(p).tp++;
  else {
    cls(p).fp++;
    cls(a).fn++;
  }
}

const ratio = (a: number, b: number) => (b ? a / b : 0);

function figures(t: Tally, rule: NormalizedMonitorOptions['prediction']): QualityFigures {
  const out: QualityFigures = { labelled: t.labelled, unusable: t.unusable };
  if (!t.labelled) return out;
  if (rule.kind === 'regression') {
    const mse = t.squared / t.labelled;
    const variance = t.labelled > 1 ? Math.max(0, (t.fourth - t.labelled * mse * mse) / (t.labelled - 1)) : 0;
    return { ...out, mae: t.absolute / t.labelled, rmse: Math.sqrt(mse), squared_error_sd: Math.sqrt(variance) };
  }
  out.accuracy = t.correct / t.labelled;
  const positive = rule.kind === 'threshold' ? text(rule.classes?.[1] ?? 1) : rule.classes?.length === 2 ? text(rule.classes[1]) : null;
  const scores = (c: { tp: number; fp: number; fn: number }) => {
    const precision = ratio(c.tp, c.tp + c.fp);
    const recall = ratio(c.tp, c.tp + c.fn);
    return { precision, recall, f1: ratio(2 * precision * recall, precision + recall) };
  };
  if (positive !== null) return { ...out, ...scores(t.classes.get(positive) ?? { tp: 0, fp: 0, fn: 0 }) };
  const all = [...t.classes.values()].map(scores);
  const mean = (k: 'precision' | 'recall' | 'f1') =>
    ratio(
      all.reduce((s, c) => s + c[k], 0),
      all.length,
    );
  return { ...out, precision: mean('precision'), recall: mean('recall'), f1: mean('f1') };
}

/** Per model key (JSON [model, version]) and window start (ms; -1 without windows), the quality figures of the labelled records matching `where`. */
export async function readQuality(
  t: Snapshot,
  names: { schema: string; table: string; events: string },
  where: string,
  window: MonitorWindow | null,
  rule: NormalizedMonitorOptions['prediction'],
): Promise<Map<string, Map<number, QualityFigures>>> {
  const win = window ? `(date_trunc('${window}', r.started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')` : 'NULL::timestamptz';
  const output = `(SELECT x.t FROM jsonb_array_elements(CASE jsonb_typeof(r.outputs) WHEN 'array' THEN r.outputs ELSE '[]'::jsonb END)
                     WITH ORDINALITY x(t, k) WHERE $4::text IS NULL OR x.t ->> 'name' = $4::text ORDER BY x.k LIMIT 1)`;
  const sql = `
    WITH g AS (
      SELECT DISTINCT ON (subject) subject, CASE jsonb_typeof(data) WHEN 'object' THEN data -> 'label' END AS label, created_at, id
        FROM $1:name.$3:name WHERE type = 'ground_truth'
       ORDER BY subject, created_at DESC, id DESC
    )
    SELECT DISTINCT ON (j.id) j.win, j.model_name, j.model_version, j.output, j.label FROM (
      SELECT r.id, ${win} AS win, r.model_name, r.model_version, ${output} AS output, g.label, g.created_at, g.id AS event
        FROM $1:name.$2:name r JOIN g ON g.subject = r.request_id WHERE $5:raw
      UNION ALL
      SELECT r.id, ${win}, r.model_name, r.model_version, ${output}, g.label, g.created_at, g.id
        FROM $1:name.$2:name r JOIN g ON g.subject = r.id::text WHERE ($5:raw) AND r.request_id <> g.subject
    ) j ORDER BY j.id, j.created_at DESC, j.event DESC`;
  const tallies = new Map<string, Map<number, Tally>>();
  await forEachRowIn(t, sql, [names.schema, names.table, names.events, rule.output ?? null, where], (rows) => {
    for (const r of rows) {
      const model = JSON.stringify([r.model_name, r.model_version]);
      const start = r.win === null ? -1 : (r.win as Date).getTime();
      const tl = entry(
        entry(tallies, model, () => new Map<number, Tally>()),
        start,
        tally,
      );
      count(tl, predict(r.output, rule), labelOf(r.label, rule));
    }
  });
  const out = new Map<string, Map<number, QualityFigures>>();
  for (const [model, windows] of tallies) out.set(model, new Map([...windows].map(([w, tl]) => [w, figures(tl, rule)])));
  return out;
}
