// A feature's profile in one window, from the facts PostgreSQL aggregated: count, missing, moments
// (combined over the fine buckets), quantiles interpolated within them, and counts on comparison bins.
import { COMPARISON_BINS, decileBins, gather } from './drift';
import type { Bucket, WindowFacts } from './passes';

/** Quantiles of a numeric feature in one window. */
export interface Quantiles {
  p05: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

/** What one window (or the reference) holds of one feature. */
export interface FeatureProfile {
  /** Observations with a value (a number for a numeric feature). */
  count: number;
  /** Records of the window without a value: the tensor or field absent, or not a number. */
  missing: number;
  /** Numeric features: mean, standard deviation (sample), least and greatest value; null without values. */
  mean?: number | null;
  std?: number | null;
  min?: number | null;
  max?: number | null;
  /** Numeric features: quantiles, interpolated within the buckets of the reference's percentiles (within 1 % of the reference's mass). */
  quantiles?: Quantiles | null;
}

const QUANTILES: [keyof Quantiles, number][] = [
  ['p05', 0.05],
  ['p25', 0.25],
  ['p50', 0.5],
  ['p75', 0.75],
  ['p95', 0.95],
];

function quantiles(buckets: ReadonlyMap<number, Bucket>, total: number): Quantiles | null {
  if (!total || buckets.has(-1)) return null;
  const ordered = [...buckets].sort((a, b) => a[0] - b[0]).map(([, b]) => b);
  const out = {} as Quantiles;
  for (const [name, q] of QUANTILES) {
    const target = q * total;
    let before = 0;
    for (const b of ordered) {
      if (before + b.n >= target || b === ordered[ordered.length - 1]) {
        const within = b.n > 1 ? Math.min(1, Math.max(0, (target - before) / b.n)) : 0.5;
        out[name] = b.min + (b.max - b.min) * within;
        break;
      }
      before += b.n;
    }
  }
  return out;
}

/** A feature's values in one window: numbers (numeric), or values of any category (categorical). */
export function valuesIn(facts: WindowFacts | undefined, numeric: boolean): number {
  if (!facts) return 0;
  return numeric ? facts.valid : [...facts.categories.values()].reduce((a, b) => a + b, 0) + facts.other;
}

/** A feature's profile from its facts in one window; `records`: the model's records in that window. */
export function profileOf(facts: WindowFacts | undefined, numeric: boolean, records: number): FeatureProfile {
  if (!numeric) {
    const count = valuesIn(facts, false);
    return { count, missing: Math.max(0, records - count) };
  }
  const valid = facts?.valid ?? 0;
  const missing = (facts ? facts.observed - valid : 0) + Math.max(0, records - (facts?.observed ?? 0));
  if (!facts || !valid) return { count: 0, missing, mean: null, std: null, min: null, max: null, quantiles: null };
  // Chan et al.'s combination of per-bucket means and variances.
  let n = 0;
  let mean = 0;
  let m2 = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const [, b] of [...facts.buckets].sort((x, y) => x[0] - y[0])) {
    const total = n + b.n;
    const delta = b.mean - mean;
    mean += (delta * b.n) / total;
    m2 += b.variance * b.n + (delta * delta * n * b.n) / total;
    n = total;
    min = Math.min(min, b.min);
    max = Math.max(max, b.max);
  }
  return { count: valid, missing, mean, std: n > 1 ? Math.sqrt(m2 / (n - 1)) : 0, min, max, quantiles: quantiles(facts.buckets, valid) };
}

/** Comparison bins of a feature: labels, and how to count a window's facts on them. */
export interface Bins {
  labels: string[];
  counts(facts: WindowFacts | undefined): number[];
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString());

/** Deciles of the reference's values on the fine grid `edges`, with a bin below and above them (null when the reference has none). */
export function numericBins(reference: WindowFacts | undefined, edges: readonly number[] | undefined): Bins | null {
  if (!reference || !edges?.length || reference.buckets.has(-1) || !reference.valid) return null;
  const counts = (f: WindowFacts | undefined) => new Map([...(f?.buckets ?? [])].filter(([b]) => b >= 0).map(([b, x]) => [b, x.n]));
  const bins = decileBins(counts(reference), edges.length);
  // A bin spans from the lower edge of its first bucket to the upper edge of its last.
  const lower: (string | undefined)[] = [];
  const upper: string[] = [];
  for (let b = 0; b <= edges.length; b++) {
    const g = bins[b]!;
    lower[g] ??= b === 0 ? '-∞' : fmt(edges[b - 1]!);
    upper[g] = b === edges.length ? '∞' : fmt(edges[b]!);
  }
  const labels = Array.from({ length: COMPARISON_BINS }, (_, g) => (lower[g] === undefined ? '(empty)' : `[${lower[g]}, ${upper[g]})`));
  return { labels, counts: (f) => gather(counts(f), bins) };
}

/** The reference's categories and one bin for every other value. */
export function categoryBins(categories: readonly string[]): Bins {
  return {
    labels: [...categories, '(other)'],
    counts: (f) => [...categories.map((c) => f?.categories.get(c) ?? 0), f?.other ?? 0],
  };
}
