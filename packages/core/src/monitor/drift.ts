// Drift statistics between two distributions over the same bins, and the bins themselves: a fine grid
// on the reference's percentiles, merged into deciles of whichever distribution is the reference.

/** Proportions smaller than this count as this, so that an empty bin does not make PSI infinite. */
const EPSILON = 1e-4;

function proportions(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => Math.max(total ? c / total : 0, EPSILON));
}

/** Population stability index of `actual` against `expected` (counts over the same bins). */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  const e = proportions(expected);
  const a = proportions(actual);
  let sum = 0;
  for (let i = 0; i < e.length; i++) sum += (a[i]! - e[i]!) * Math.log(a[i]! / e[i]!);
  return sum;
}

/** Jensen–Shannon distance (square root of the divergence, base 2) between two count vectors over the same bins: 0 same, 1 disjoint. */
export function jsDistance(p: readonly number[], q: readonly number[]): number {
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  if (!sp || !sq) return sp === sq ? 0 : 1;
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    if (a > 0) divergence += (a / 2) * Math.log2(a / m);
    if (b > 0) divergence += (b / 2) * Math.log2(b / m);
  }
  return Math.sqrt(Math.max(0, Math.min(1, divergence)));
}

/** The reference percentiles asked of PostgreSQL: 1 % to 99 %. */
export const PERCENTILES = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);
/** Bins added beyond each end of the reference's range, each twice as wide as the one before, so that a shift far out of it is still resolved. */
const EXTENSION_BINS = 20;

/**
 * The fine grid of a numeric feature: the reference's distinct percentiles, and beyond them, on each
 * side, EXTENSION_BINS bins starting at a twentieth of the reference's 1–99 % range and doubling
 * (the last ends about 50,000 ranges out). PostgreSQL's `width_bucket` places a value in bucket b when
 * `edges[b-1] <= value < edges[b]` (0 below the first edge).
 */
export function fineEdges(percentiles: readonly number[]): number[] {
  const inner = [...new Set(percentiles.filter((v) => Number.isFinite(v)))].sort((a, b) => a - b);
  if (inner.length === 0) return [];
  const lo = inner[0]!;
  const hi = inner[inner.length - 1]!;
  const step = hi > lo ? (hi - lo) / 20 : Math.max(Math.abs(lo) * 0.05, 1e-9);
  const offset = (i: number) => step * (2 ** i - 1);
  const below = Array.from({ length: EXTENSION_BINS }, (_, i) => lo - offset(EXTENSION_BINS - i));
  const above = Array.from({ length: EXTENSION_BINS }, (_, i) => hi + offset(i + 1));
  return [...below, ...inner, ...above].filter((v, i, all) => Number.isFinite(v) && (i === 0 || v > all[i - 1]!));
}

/** Bins of the comparison: below the reference's least value, its ten deciles, above its greatest value. */
export const COMPARISON_BINS = 12;

/**
 * The comparison bins of a distribution over the fine grid: for each fine bucket (0 … `buckets`), its
 * bin. Bin 0 holds the buckets below the reference's first non-empty one and bin 11 those above its
 * last, so a shift out of the reference's range is seen at either end; bins 1–10 hold a tenth of the
 * reference each (a bucket that holds several tenths fills several, and the bins it skips stay empty).
 */
export function decileBins(counts: ReadonlyMap<number, number>, buckets: number): number[] {
  const filled = [...counts].filter(([, n]) => n > 0).map(([b]) => b);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const first = filled.length ? Math.min(...filled) : 0;
  const last = filled.length ? Math.max(...filled) : buckets;
  const bin = new Array<number>(buckets + 1).fill(0);
  let cumulative = 0;
  let current = 1;
  for (let b = 0; b <= buckets; b++) {
    if (b < first) continue;
    if (b > last) {
      bin[b] = COMPARISON_BINS - 1;
      continue;
    }
    bin[b] = current;
    cumulative += counts.get(b) ?? 0;
    // A bin closes once it holds its tenth; the next bucket opens the next bin.
    while (total && current < 10 && cumulative >= (current * total) / 10) current++;
  }
  return bin;
}

/** Counts of a fine histogram gathered into comparison bins (from decileBins). */
export function gather(counts: ReadonlyMap<number, number>, bins: readonly number[]): number[] {
  const out = new Array<number>(COMPARISON_BINS).fill(0);
  for (const [b, n] of counts) out[bins[Math.min(b, bins.length - 1)]!]! += n;
  return out;
}
