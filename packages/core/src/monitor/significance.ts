// Whether a difference is more than sampling noise: Pearson's chi-square test of two histograms over
// the same bins, and the two-proportion z-test of two accuracies. A window is flagged only when its
// statistic reaches the threshold AND the test rejects "same distribution" at the chosen level, so a
// small window's noise does not raise an alarm.

/** ln Γ(x), Lanczos approximation (x > 0). */
function lnGamma(x: number): number {
  const g = [76.1800917294715, -86.5053203294168, 24.0140982408309, -1.23173957245015, 0.120865097386618e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let series = 1.00000000019001;
  for (const c of g) series += c / ++y;
  return -tmp + Math.log((2.506628274631 * series) / x);
}

/** The regularised upper incomplete gamma function Q(a, x). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - lnGamma(a));
  if (x < a + 1) {
    // Series for P(a, x).
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) sum += term *= x / (a + n);
    return Math.max(0, 1 - sum * front);
  }
  // Lentz's continued fraction for Q(a, x).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, front * h);
}

/** p-value of Pearson's chi-square test that two count vectors over the same bins come from one distribution. */
export function chiSquareP(a: readonly number[], b: readonly number[]): number {
  const na = a.reduce((s, v) => s + v, 0);
  const nb = b.reduce((s, v) => s + v, 0);
  if (!na || !nb) return 1;
  let statistic = 0;
  let bins = 0;
  for (let i = 0; i < a.length; i++) {
    const column = a[i]! + b[i]!;
    if (!column) continue;
    bins++;
    const ea = (column * na) / (na + nb);
    const eb = (column * nb) / (na + nb);
    statistic += (a[i]! - ea) ** 2 / ea + (b[i]! - eb) ** 2 / eb;
  }
  return bins < 2 ? 1 : gammaQ((bins - 1) / 2, statistic / 2);
}

/** One-sided p-value that accuracy `k2/n2` is lower than `k1/n1` by chance (two-proportion z-test, pooled). */
export function proportionDropP(k1: number, n1: number, k2: number, n2: number): number {
  if (!n1 || !n2) return 1;
  const pooled = (k1 + k2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (!se) return k2 / n2 < k1 / n1 ? 0 : 1;
  const z = (k1 / n1 - k2 / n2) / se;
  // Upper tail of the standard normal: Q(1/2, z²/2)/2 for z > 0.
  return z <= 0 ? 1 - gammaQ(0.5, (z * z) / 2) / 2 : gammaQ(0.5, (z * z) / 2) / 2;
}

/** One-sided p-value that mean `m2` (sd `s2`, `n2` values) exceeds mean `m1` (sd `s1`, `n1` values) by chance (z-test, unpooled). */
export function meanRiseP(m1: number, s1: number, n1: number, m2: number, s2: number, n2: number): number {
  if (!n1 || !n2) return 1;
  const se = Math.sqrt((s1 * s1) / n1 + (s2 * s2) / n2);
  if (!se) return m2 > m1 ? 0 : 1;
  const z = (m2 - m1) / se;
  return z <= 0 ? 1 - gammaQ(0.5, (z * z) / 2) / 2 : gammaQ(0.5, (z * z) / 2) / 2;
}
