// `monitorLog`: profiles, drift and model quality per model, version and window, from the log itself.
import { inSnapshot } from '../audit/cursor';
import { filterSql } from '../audit/filter';
import type { Database } from '../sink/pgp';
import { logTableNames } from '../sink/names';
import { InferlogConfigError } from '../errors';
import { fineEdges, jsDistance, psi } from './drift';
import {
  normalizeMonitorOptions,
  type DriftThresholds,
  type MonitorOptions,
  type MonitorWindow,
  type NormalizedMonitorOptions,
} from './options';
import type { WindowFacts } from './passes';
import { readReference, readWindows } from './passes';
import { TUNE_FOR_SCANS, type WindowGrid } from './observations';
import { featuresOf, planFeatures, type FeatureKind, type ModelPlan, type MonitorPlan } from './plan';
import { categoryBins, numericBins, profileOf, valuesIn, type Bins, type FeatureProfile } from './profile';
import { readQuality, type QualityFigures } from './quality';
import { chiSquareP, meanRiseP, proportionDropP } from './significance';

/** One feature in one window: its profile and how it compares with the reference. */
export interface FeatureWindow extends FeatureProfile {
  /** The window's start (ISO 8601, UTC). */
  start: string;
  /** Counts on the comparison bins (`bins`): the reference's deciles or categories. */
  histogram: number[] | null;
  /** The bins of `histogram` (with reference `previous`, the previous window's). */
  bins: string[] | null;
  /** Against the reference: PSI and Jensen–Shannon distance; null when not compared (too few observations, the reference itself). */
  psi: number | null;
  js: number | null;
  /** The chi-square test's p-value of the window's and the reference's counts; null when not compared. */
  p_value: number | null;
  /** Whether PSI or the distance reached its threshold, with a p-value below `significance`. */
  drift: boolean;
  /** Whether the window was compared: false for the reference itself, or when either side has fewer than `minCount` values. */
  compared: boolean;
}

export interface FeatureMonitor {
  /** `latency_ms`, `status`, `schema_errors`, `usage.*`, `inputs.<tensor>[i]`, `inputs.<tensor>`, `….length`, `….mean`. */
  name: string;
  kind: FeatureKind;
  thresholds: Required<DriftThresholds>;
  /** The reference's profile (with reference `previous`: the first window's). */
  reference: FeatureProfile;
  windows: FeatureWindow[];
  /** Starts of the windows flagged. */
  drifted: string[];
  /** Windows compared with the reference (besides the reference itself): 0 means the feature was not judged at all. */
  compared: number;
}

export interface QualityWindow extends QualityFigures {
  start: string;
  /** Whether quality fell below the reference's by more than `qualityDrop`. */
  degraded: boolean;
}

export interface ModelQuality {
  rule: NormalizedMonitorOptions['prediction'];
  reference: QualityFigures | null;
  windows: QualityWindow[];
  /** Starts of the windows flagged. */
  degraded: string[];
}

export interface ModelMonitor {
  model_name: string | null;
  model_version: string | null;
  records: number;
  /** The records compared with (`first`: the model's first window; a range as given; `previous`: each window's previous one). */
  reference: { since: string; until: string } | 'previous';
  windows: { start: string; records: number; schema_error_rate: number }[];
  features: FeatureMonitor[];
  /** The features flagged in some window, with those windows. */
  drift: { feature: string; windows: string[] }[];
  /** Features compared in no window (too few values on a side, an empty reference, no window besides the reference): no verdict, not "no drift". */
  not_compared: string[];
  /** Tensors left out, the least frequent, beyond MAX_TENSORS or MAX_MODEL_FEATURES of the model (plan.ts). */
  skipped_tensors: number;
  quality: ModelQuality | null;
}

export interface MonitorReport {
  generated_at: string;
  window: MonitorWindow;
  range: { since: string | null; until: string | null };
  reference: 'first' | 'previous' | { since: string; until: string };
  thresholds: Required<DriftThresholds>;
  significance: number;
  min_count: number;
  models: ModelMonitor[];
  /** Models left out (those with the fewest records) because all of them would exceed MAX_FEATURES features or MAX_CELLS window × feature cells. */
  skipped_models: { model_name: string | null; model_version: string | null; records: number }[];
}

const WINDOW_MS: Record<MonitorWindow, number> = { hour: 3_600_000, day: 86_400_000, week: 604_800_000 };

/** The start of the UTC window holding `at` (weeks start on Monday, as PostgreSQL's date_trunc). */
export function windowStart(at: Date, window: MonitorWindow): number {
  const ms = at.getTime();
  if (window !== 'week') return Math.floor(ms / WINDOW_MS[window]) * WINDOW_MS[window];
  const day = Math.floor(ms / 86_400_000);
  return (day - ((day + 3) % 7)) * 86_400_000;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Most windows a run profiles, and most window × feature cells: what comes back from PostgreSQL grows with their product. */
export const MAX_WINDOWS = 5000;
export const MAX_CELLS = 50_000;
/** Most features per run: each numeric one sends its grid (about 140 numbers) in the statement. */
export const MAX_FEATURES = 2000;

function checkWindows(o: NormalizedMonitorOptions, grid: WindowGrid | null): void {
  const windows = grid?.count ?? 0;
  if (windows > MAX_WINDOWS)
    throw new InferlogConfigError(
      `monitor: the range holds ${windows} windows of one ${o.window}, more than ${MAX_WINDOWS}; use a longer window or a shorter range (since/until)`,
    );
}

/**
 * The models a run profiles: by number of records, as long as their features fit in MAX_FEATURES
 * and their windows × features in MAX_CELLS. Model names come from clients: a flood of made-up models must not stop the monitoring
 * of the real ones, which have the records.
 */
function fitModels(plan: MonitorPlan, windows: number): ModelPlan[] {
  const features = featuresOf(plan);
  const skipped: ModelPlan[] = [];
  let cells = 0;
  let count = 0;
  for (const m of [...plan.models].sort((a, b) => b.records - a.records)) {
    const own = features.filter((f) => f.model === m.model && f.version === m.version).length;
    if (count + own > MAX_FEATURES || cells + own * Math.max(1, windows) > MAX_CELLS) skipped.push(m);
    else {
      count += own;
      cells += own * Math.max(1, windows);
    }
  }
  const left = new Set(skipped);
  plan.models = plan.models.filter((m) => !left.has(m));
  plan.tensors = plan.tensors.filter((t) => plan.models.some((m) => m.model === t.model && m.version === t.version));
  return skipped;
}

/** The windows from the first record's to the last record's, of any model. */
function gridOf(models: readonly ModelPlan[], window: MonitorWindow): WindowGrid | null {
  if (!models.length) return null;
  const origin = windowStart(new Date(Math.min(...models.map((m) => m.first.getTime()))), window);
  const last = windowStart(new Date(Math.max(...models.map((m) => m.last.getTime()))), window);
  return { origin, width: WINDOW_MS[window], count: (last - origin) / WINDOW_MS[window] + 1 };
}
const modelKey = (m: { model: string | null; version: string | null }) => JSON.stringify([m.model, m.version]);

/**
 * Profiles every feature of the records matching `options.filter` per model, version and window,
 * compares each window with the reference (PSI, Jensen–Shannon distance), and, with `prediction`,
 * measures model quality against `ground_truth` events. Aggregation runs in PostgreSQL, in one
 * read-only snapshot; the labelled inferences are streamed. See docs/monitoring.md.
 */
export async function monitorLog(db: Database, schema: string, table: string, options: MonitorOptions = {}): Promise<MonitorReport> {
  const o = normalizeMonitorOptions(options);
  const names = logTableNames(schema, table);
  const where = filterSql(o.filter);
  const fixed = typeof o.reference === 'object' ? o.reference : null;
  const referenceOf = (m: ModelPlan) => {
    if (fixed) return fixed;
    const since = windowStart(m.first, o.window);
    return { since: new Date(since), until: new Date(since + WINDOW_MS[o.window]) };
  };
  const referenceWhere = fixed ? filterSql({ ...o.filter, since: fixed.since, until: fixed.until }) : where;
  return inSnapshot(db, async (t) => {
    await t.none(TUNE_FOR_SCANS);
    const plan = await planFeatures(t, schema, table, where, o.maxPositions);
    const grid = gridOf(plan.models, o.window);
    checkWindows(o, grid);
    const skippedModels = fitModels(plan, grid?.count ?? 0);
    const base = { schema, table, models: plan.models, tensors: plan.tensors };
    const facts = await readReference(t, { ...base, where: referenceWhere, windows: null, referenceOf }, o.maxCategories);
    for (const tensor of plan.tensors) {
      if (tensor.kind !== 'bytes') continue;
      // The reference pass read a BYTES tensor's values and lengths under its first feature id.
      const fact = facts.get(tensor.base);
      tensor.kind = (fact?.categories?.length ?? 0) > o.maxCategories ? 'text' : 'category';
      if (fact?.percentiles) facts.set(tensor.base + 1, { percentiles: fact.percentiles });
    }
    const features = featuresOf(plan);
    const unknown = Object.keys(o.featureThresholds).filter((name) => !features.some((f) => f.name === name));
    if (unknown.length)
      throw new InferlogConfigError(
        `monitor: "featureThresholds" names ${unknown.map((n) => JSON.stringify(n)).join(', ')}, which no model in the range has; its features are named like "latency_ms", "inputs.<tensor>[0]", "outputs.<tensor>"`,
      );
    const edges = new Map<number, number[]>();
    const categories = new Map<number, string[]>();
    for (const f of features) {
      const fact = facts.get(f.id);
      if (f.kind === 'numeric') {
        const e = fineEdges(fact?.percentiles ?? []);
        if (e.length) edges.set(f.id, e);
      } else
        categories.set(
          f.id,
          (fact?.categories ?? []).slice(0, o.maxCategories).map((c) => c.value),
        );
    }
    const windows = await readWindows(t, { ...base, where, windows: grid }, edges, categories);
    const referenceFacts = fixed
      ? (await readWindows(t, { ...base, where: referenceWhere, windows: null }, edges, categories)).get(-1)
      : undefined;
    const quality = o.hasPrediction ? await readQuality(t, names, where, o.window, o.prediction) : null;
    const referenceQuality = o.hasPrediction && fixed ? await readQuality(t, names, referenceWhere, null, o.prediction) : null;

    const models = plan.models.map((m): ModelMonitor => {
      const starts = [...windows.keys()].filter((s) => (windows.get(s)!.get(m.base)?.observed ?? 0) > 0).sort((a, b) => a - b);
      const records = (s: number) => windows.get(s)?.get(m.base)?.observed ?? 0;
      const referenceStart = windowStart(m.first, o.window);
      /** A feature's facts in the reference: the fixed range, else the model's first window (with `previous`, what its profile shows). */
      const inReference = (fid: number) => (fixed ? referenceFacts?.get(fid) : windows.get(referenceStart)?.get(fid));
      /** The facts a window is compared with, and whether it is the reference itself. */
      const compareWith = (i: number, fid: number): { facts: WindowFacts | undefined; self: boolean } => {
        if (o.reference === 'previous') return { facts: i > 0 ? windows.get(starts[i - 1]!)?.get(fid) : undefined, self: i === 0 };
        return { facts: inReference(fid), self: !fixed && starts[i] === referenceStart };
      };
      const referenceRecords = fixed ? (referenceFacts?.get(m.base)?.observed ?? 0) : records(referenceStart);
      const mine = features.filter((f) => f.model === m.model && f.version === m.version);
      const featureMonitors = mine.map((f): FeatureMonitor => {
        const numeric = f.kind === 'numeric';
        const thresholds = { ...o.thresholds, ...o.featureThresholds[f.name] };
        const binsOf = (reference: WindowFacts | undefined): Bins | null =>
          numeric ? numericBins(reference, edges.get(f.id)) : categoryBins(categories.get(f.id) ?? []);
        const fixedBins = o.reference === 'previous' ? null : binsOf(inReference(f.id));
        const rows = starts.map((s, i): FeatureWindow => {
          const here = windows.get(s)!.get(f.id);
          const profile = profileOf(here, numeric, records(s));
          const { facts: against, self } = compareWith(i, f.id);
          const bins = o.reference === 'previous' ? binsOf(against) : fixedBins;
          const referenceCount = valuesIn(against, numeric);
          let drift: Pick<FeatureWindow, 'psi' | 'js' | 'p_value' | 'drift' | 'compared'> = {
            psi: null,
            js: null,
            p_value: null,
            drift: false,
            compared: false,
          };
          const actual = bins ? bins.counts(here) : null;
          if (bins && actual && !self && against && profile.count >= o.minCount && referenceCount >= o.minCount) {
            const expected = bins.counts(against);
            const p = psi(expected, actual);
            const j = jsDistance(expected, actual);
            const pValue = chiSquareP(expected, actual);
            drift = {
              psi: p,
              js: j,
              p_value: pValue,
              drift: (p >= thresholds.psi || j >= thresholds.js) && pValue < o.significance,
              compared: true,
            };
          }
          return { start: iso(s), ...profile, histogram: actual, bins: bins?.labels ?? null, ...drift };
        });
        const referenceProfile = profileOf(inReference(f.id), numeric, referenceRecords);
        return {
          name: f.name,
          kind: f.kind,
          thresholds,
          reference: referenceProfile,
          windows: rows,
          drifted: rows.filter((r) => r.drift).map((r) => r.start),
          compared: rows.filter((r) => r.compared).length,
        };
      });
      const schemaErrors = mine.find((f) => f.name === 'schema_errors');
      return {
        model_name: m.model,
        model_version: m.version,
        records: m.records,
        reference:
          o.reference === 'previous'
            ? 'previous'
            : fixed
              ? { since: fixed.since.toISOString(), until: fixed.until.toISOString() }
              : { since: iso(referenceStart), until: iso(referenceStart + WINDOW_MS[o.window]) },
        windows: starts.map((s) => {
          const invalid = schemaErrors ? (windows.get(s)?.get(schemaErrors.id)?.categories.get('invalid') ?? 0) : 0;
          return { start: iso(s), records: records(s), schema_error_rate: records(s) ? invalid / records(s) : 0 };
        }),
        features: featureMonitors,
        drift: featureMonitors.filter((f) => f.drifted.length).map((f) => ({ feature: f.name, windows: f.drifted })),
        not_compared: featureMonitors.filter((f) => !f.compared).map((f) => f.name),
        skipped_tensors: m.skippedTensors,
        quality: quality
          ? qualityOf(o, quality.get(modelKey(m)), referenceQuality?.get(modelKey(m))?.get(-1) ?? null, referenceStart, fixed !== null)
          : null,
      };
    });
    return {
      generated_at: new Date().toISOString(),
      window: o.window,
      range: { since: o.filter.since?.toISOString() ?? null, until: o.filter.until?.toISOString() ?? null },
      reference: fixed ? { since: fixed.since.toISOString(), until: fixed.until.toISOString() } : (o.reference as 'first' | 'previous'),
      thresholds: o.thresholds,
      significance: o.significance,
      min_count: o.minCount,
      models,
      skipped_models: skippedModels.map((m) => ({ model_name: m.model, model_version: m.version, records: m.records })),
    };
  });
}

function qualityOf(
  o: NormalizedMonitorOptions,
  windows: ReadonlyMap<number, QualityFigures> | undefined,
  fixedReference: QualityFigures | null,
  referenceStart: number,
  fixed: boolean,
): ModelQuality {
  const starts = [...(windows?.keys() ?? [])].sort((a, b) => a - b);
  const reference = fixed ? fixedReference : o.reference === 'previous' ? null : (windows?.get(referenceStart) ?? null);
  const rows = starts.map((s, i): QualityWindow => {
    const here = windows!.get(s)!;
    const against = o.reference === 'previous' ? (i > 0 ? windows!.get(starts[i - 1]!)! : null) : reference;
    let degraded = false;
    if (
      against &&
      (fixed || o.reference === 'previous' || s !== referenceStart) &&
      here.labelled >= o.minLabelled &&
      against.labelled >= o.minLabelled
    ) {
      if (o.prediction.kind === 'regression')
        degraded =
          here.rmse! > against.rmse! * (1 + o.qualityDrop) &&
          meanRiseP(
            against.rmse! ** 2,
            against.squared_error_sd!,
            against.labelled,
            here.rmse! ** 2,
            here.squared_error_sd!,
            here.labelled,
          ) < o.significance;
      else
        degraded =
          against.accuracy! - here.accuracy! > o.qualityDrop &&
          proportionDropP(
            Math.round(against.accuracy! * against.labelled),
            against.labelled,
            Math.round(here.accuracy! * here.labelled),
            here.labelled,
          ) < o.significance;
    }
    return { start: iso(s), ...here, degraded };
  });
  return { rule: o.prediction, reference, windows: rows, degraded: rows.filter((r) => r.degraded).map((r) => r.start) };
}
