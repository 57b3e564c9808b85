// The drift statistics and the bins they are computed on (monitor/drift.ts, monitor/significance.ts),
// against values computed by hand or known from tables.
import { decileBins, fineEdges, gather, jsDistance, PERCENTILES, psi } from '../src/monitor/drift';
import { chiSquareP, gammaQ, proportionDropP } from '../src/monitor/significance';

test('PSI: zero for the same proportions, the textbook sum otherwise, finite with empty bins', () => {
  expect(psi([10, 20, 70], [1, 2, 7])).toBeCloseTo(0, 12);
  const e = [0.25, 0.25, 0.5];
  const a = [0.5, 0.25, 0.25];
  const expected = (0.5 - 0.25) * Math.log(0.5 / 0.25) + 0 + (0.25 - 0.5) * Math.log(0.25 / 0.5);
  expect(psi(e, a)).toBeCloseTo(expected, 12);
  expect(Number.isFinite(psi([100, 0], [0, 100]))).toBe(true);
  expect(psi([100, 0], [0, 100])).toBeGreaterThan(10);
});

test('Jensen–Shannon distance: 0 same, 1 disjoint, symmetric, the base-2 formula between', () => {
  expect(jsDistance([1, 2, 3], [2, 4, 6])).toBeCloseTo(0, 12);
  expect(jsDistance([5, 0], [0, 7])).toBeCloseTo(1, 12);
  expect(jsDistance([3, 1], [1, 3])).toBeCloseTo(jsDistance([1, 3], [3, 1]), 12);
  const p = [0.75, 0.25];
  const q = [0.25, 0.75];
  const m = [0.5, 0.5];
  const kl = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * Math.log2(v / y[i]!), 0);
  expect(jsDistance([3, 1], [1, 3])).toBeCloseTo(Math.sqrt(kl(p, m) / 2 + kl(q, m) / 2), 12);
  expect(jsDistance([0, 0], [1, 1])).toBe(1);
});

test('chi-square and normal tails match the tables', () => {
  // Q(k/2, x/2) is the chi-square survival function: χ²(9) = 16.919 at p = 0.05, χ²(1) = 6.635 at p = 0.01.
  expect(gammaQ(4.5, 16.919 / 2)).toBeCloseTo(0.05, 4);
  expect(gammaQ(0.5, 6.635 / 2)).toBeCloseTo(0.01, 4);
  expect(gammaQ(2, 0)).toBe(1);
  // A 2x2 table whose Pearson statistic is 8.0 (1 degree of freedom): p = 0.0047.
  expect(chiSquareP([60, 40], [40, 60])).toBeCloseTo(0.0047, 4);
  expect(chiSquareP([50, 50], [50, 50])).toBeCloseTo(1, 12);
  expect(chiSquareP([0, 0], [3, 4])).toBe(1);
  // z = 1.6449 is the one-sided 5 % point.
  const n = 1000;
  const k2 = Math.round(n * 0.5 - 1.6449 * Math.sqrt(0.25 * 2 * n) * 1);
  expect(proportionDropP(500, n, k2, n)).toBeGreaterThan(0.03);
  expect(proportionDropP(500, n, k2, n)).toBeLessThan(0.07);
  expect(proportionDropP(500, n, 600, n)).toBeGreaterThan(0.99);
  expect(proportionDropP(900, n, 700, n)).toBeLessThan(1e-12);
});

test('the fine grid: sorted distinct edges, the percentiles inside, doubling bins beyond both ends', () => {
  const q = PERCENTILES.map((p) => p * 100);
  const edges = fineEdges(q);
  expect(edges).toEqual([...edges].sort((a, b) => a - b));
  expect(new Set(edges).size).toBe(edges.length);
  for (const v of q) expect(edges).toContain(v);
  // The first bin beyond the range is a twentieth of it wide; each next one twice the last.
  const step = 98 / 20;
  expect(edges[20]! - edges[19]!).toBeCloseTo(step, 9);
  expect(edges[19]! - edges[18]!).toBeCloseTo(2 * step, 9);
  expect(edges[0]).toBeCloseTo(1 - step * (2 ** 20 - 1), 3);
  expect(edges.at(-1)).toBeCloseTo(99 + step * (2 ** 20 - 1), 3);
  // A constant reference still gets bins around its value; no values, no grid.
  expect(fineEdges([3, 3, 3]).length).toBe(41);
  expect(fineEdges([])).toEqual([]);
});

test('comparison bins: a tenth of the reference in each of bins 1–10, and bins of their own below and above it', () => {
  const counts = new Map(Array.from({ length: 100 }, (_, b) => [b + 1, 10] as [number, number]));
  const bins = decileBins(counts, 101);
  expect(gather(counts, bins)).toEqual([0, ...Array(10).fill(100), 0]);
  expect(gather(new Map([[0, 5]]), bins)[0]).toBe(5);
  expect(gather(new Map([[101, 7]]), bins)[11]).toBe(7);
});

test('a reference on one value: a shift down is seen as well as a shift up', () => {
  // Every reference value in bucket 5: buckets below go to bin 0, above to bin 11, the bucket itself fills bins 1–10.
  const reference = new Map([[5, 1000]]);
  const bins = decileBins(reference, 10);
  const expected = gather(reference, bins);
  expect(expected).toEqual([0, 1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const down = gather(new Map([[3, 1000]]), bins);
  const up = gather(new Map([[7, 1000]]), bins);
  expect(down[0]).toBe(1000);
  expect(up[11]).toBe(1000);
  expect(psi(expected, down)).toBeGreaterThan(5);
  expect(psi(expected, up)).toBeGreaterThan(5);
  expect(psi(expected, gather(reference, bins))).toBe(0);
});

test('a bucket holding several tenths fills several bins: those it skips stay empty on both sides', () => {
  const heavy = new Map([
    [0, 10],
    [1, 500],
    [2, 490],
  ]);
  const bins = decileBins(heavy, 3);
  const counts = gather(heavy, bins);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
  expect(counts.filter((n) => n === 0).length).toBeGreaterThanOrEqual(7);
  expect(bins).toEqual([1, 1, 6, 11]);
});
