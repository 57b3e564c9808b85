import { InferlogConfigError } from '../errors';
import type { RecordFilter } from '../audit/filter';

/** How long one monitoring window is (UTC). */
export type MonitorWindow = 'hour' | 'day' | 'week';
export const MONITOR_WINDOWS: readonly MonitorWindow[] = ['hour', 'day', 'week'];

/** Drift thresholds of one feature: a window is flagged when either statistic reaches its threshold. */
export interface DriftThresholds {
  /** Population stability index, 10 bins (deciles of the reference) or the reference's categories. Default 0.2. */
  psi?: number;
  /** Jensen–Shannon distance (square root of the divergence, base 2: 0 same, 1 disjoint) on the same bins. Default 0.1. */
  js?: number;
}

/** How an output tensor becomes a prediction to hold against a `ground_truth` label. */
export interface PredictionRule {
  /**
   * `argmax`: the class is the position of the largest element of the output's first sample (its label
   * is `classes[position]`, else the position); `threshold`: the class is `classes[1]` (default `1`)
   * when the element at `position` is ≥ `threshold`, else `classes[0]` (default `0`); `regression`: the
   * element at `position` is a value, compared with a numeric label.
   */
  kind: 'argmax' | 'threshold' | 'regression';
  /** The output tensor's name. Default: the record's first output. */
  output?: string;
  /** The element of the first sample used by `threshold` and `regression`. Default 0. */
  position?: number;
  /** `threshold` only: the cut. Default 0.5. */
  threshold?: number;
  /** The class labels, by position (`argmax`) or `[negative, positive]` (`threshold`). Labels compare as text. */
  classes?: (string | number)[];
}

/** Options of `monitorLog`. Unknown options throw. */
export interface MonitorOptions {
  /** Which records (time range, model, version, route, status, protocol, annotations). The range defaults to the whole log. */
  filter?: RecordFilter;
  /** Window length. Default `day`. */
  window?: MonitorWindow;
  /**
   * What each window is compared with: `first` (the first window of the range, default), `previous`
   * (the window before it), or a fixed range `{since, until}` (which may lie outside the filter's range).
   */
  reference?: 'first' | 'previous' | { since: Date; until: Date };
  /** Default thresholds of every feature. Defaults: PSI 0.2, Jensen–Shannon distance 0.1. */
  thresholds?: DriftThresholds;
  /** Thresholds of single features, by feature name (`inputs.features[2]`, `latency_ms`, …). */
  featureThresholds?: Record<string, DriftThresholds>;
  /**
   * A change is flagged only when it is also unlikely to be sampling noise: the chi-square test of the
   * window's and the reference's counts on the same bins (drift), or the one-sided two-proportion test
   * of their accuracies (quality), must give a p-value below this. Default 0.001. Set 1 to flag on the
   * thresholds alone.
   */
  significance?: number;
  /** A window with fewer observations of a feature than this is profiled but not compared. Default 100. */
  minCount?: number;
  /** Numeric tensors of at most this many elements per sample get one feature per position; wider ones are summarised. Default 64. */
  maxPositions?: number;
  /** A BYTES tensor whose reference holds at most this many distinct values is categorical; with more it is text (its length is profiled). Default 20. */
  maxCategories?: number;
  /** How outputs become predictions for model quality against `ground_truth` events. Without it, quality is not computed. */
  prediction?: PredictionRule;
  /**
   * A window's quality is flagged when it falls below the reference's by more than this: accuracy
   * (classification, absolute) or RMSE (regression, relative rise). Default 0.05 (classification), 0.2 (regression).
   */
  qualityDrop?: number;
  /** A window with fewer labelled inferences than this gets figures but no flag. Default 30. */
  minLabelled?: number;
}

/** The options with every default filled in. */
export interface NormalizedMonitorOptions {
  filter: RecordFilter;
  window: MonitorWindow;
  reference: 'first' | 'previous' | { since: Date; until: Date };
  thresholds: Required<DriftThresholds>;
  featureThresholds: Record<string, DriftThresholds>;
  significance: number;
  minCount: number;
  maxPositions: number;
  maxCategories: number;
  prediction: Required<Omit<PredictionRule, 'output' | 'classes'>> & Pick<PredictionRule, 'output' | 'classes'>;
  hasPrediction: boolean;
  qualityDrop: number;
  minLabelled: number;
}

export const DEFAULT_THRESHOLDS: Required<DriftThresholds> = { psi: 0.2, js: 0.1 };

const OPTIONS = [
  'filter',
  'window',
  'reference',
  'thresholds',
  'featureThresholds',
  'significance',
  'minCount',
  'maxPositions',
  'maxCategories',
  'prediction',
  'qualityDrop',
  'minLabelled',
];
const RULE_OPTIONS = ['kind', 'output', 'position', 'threshold', 'classes'];

function fail(message: string): never {
  throw new InferlogConfigError(`monitor: ${message}`);
}

function known(value: object, allowed: string[], where: string): void {
  for (const key of Object.keys(value))
    if (!allowed.includes(key)) fail(`unknown option "${where}${key}"; known options are: ${allowed.join(', ')}`);
}

function count(value: unknown, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    fail(`"${name}" must be an integer from ${min} to ${max}; got ${String(value)}`);
  return value;
}

function filterOf(value: unknown): RecordFilter {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) fail('"filter" must be an object {since?, until?, model?, …}');
  const filter = value as RecordFilter;
  for (const key of ['since', 'until'] as const) {
    const at = filter[key];
    if (at !== undefined && (!(at instanceof Date) || Number.isNaN(at.getTime())))
      fail(`"filter.${key}" must be a valid Date; got ${String(at)}`);
  }
  return filter;
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(`"${name}" must be a number > 0; got ${String(value)}`);
  return value;
}

function probability(value: unknown): number {
  if (value === undefined) return 0.001;
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) fail(`"significance" must be a number in (0, 1]; got ${String(value)}`);
  return value;
}

function thresholds(value: unknown, where: string, base: Required<DriftThresholds>): Required<DriftThresholds> {
  if (value === undefined) return base;
  if (typeof value !== 'object' || value === null) fail(`"${where}" must be an object {psi?, js?}`);
  known(value, ['psi', 'js'], `${where}.`);
  const v = value as DriftThresholds;
  return { psi: positive(v.psi, `${where}.psi`, base.psi), js: positive(v.js, `${where}.js`, base.js) };
}

function reference(value: unknown): NormalizedMonitorOptions['reference'] {
  if (value === undefined) return 'first';
  if (value === 'first' || value === 'previous') return value;
  if (typeof value === 'object' && value !== null) {
    known(value, ['since', 'until'], 'reference.');
    const { since, until } = value as { since: unknown; until: unknown };
    if (!(since instanceof Date) || !(until instanceof Date) || Number.isNaN(since.getTime()) || Number.isNaN(until.getTime()))
      fail('"reference" as a range needs "since" and "until" as valid Dates');
    if (since >= until) fail(`"reference.since" (${since.toISOString()}) must be before "reference.until" (${until.toISOString()})`);
    return { since, until };
  }
  return fail(`"reference" must be "first", "previous" or {since, until}; got ${JSON.stringify(value)}`);
}

function prediction(value: unknown): Pick<NormalizedMonitorOptions, 'prediction' | 'hasPrediction'> {
  if (value === undefined) return { prediction: { kind: 'argmax', position: 0, threshold: 0.5 }, hasPrediction: false };
  if (typeof value !== 'object' || value === null) fail('"prediction" must be an object {kind, output?, position?, threshold?, classes?}');
  known(value, RULE_OPTIONS, 'prediction.');
  const rule = value as PredictionRule;
  if (!['argmax', 'threshold', 'regression'].includes(rule.kind))
    fail(`"prediction.kind" must be "argmax", "threshold" or "regression"; got ${JSON.stringify(rule.kind)}`);
  if (rule.output !== undefined && (typeof rule.output !== 'string' || rule.output === ''))
    fail('"prediction.output" must be the name of an output tensor');
  if (rule.threshold !== undefined && (typeof rule.threshold !== 'number' || !Number.isFinite(rule.threshold)))
    fail(`"prediction.threshold" must be a finite number; got ${String(rule.threshold)}`);
  if (rule.classes !== undefined) {
    if (!Array.isArray(rule.classes) || rule.classes.some((c) => typeof c !== 'string' && typeof c !== 'number'))
      fail('"prediction.classes" must be an array of strings or numbers');
    if (new Set(rule.classes.map(String)).size !== rule.classes.length) fail('"prediction.classes" must be distinct labels');
    if (rule.kind === 'threshold' && rule.classes.length !== 2)
      fail('"prediction.classes" of a threshold rule must be [negative, positive]');
  }
  return {
    prediction: {
      kind: rule.kind,
      output: rule.output,
      position: count(rule.position, 'prediction.position', 0, 0),
      threshold: rule.threshold ?? 0.5,
      classes: rule.classes,
    },
    hasPrediction: true,
  };
}

/** Checks `options` and fills in the defaults; throws an InferlogConfigError naming the option at fault. */
export function normalizeMonitorOptions(options: MonitorOptions = {}): NormalizedMonitorOptions {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  known(options, OPTIONS, '');
  const window = options.window ?? 'day';
  if (!MONITOR_WINDOWS.includes(window)) fail(`"window" must be one of ${MONITOR_WINDOWS.join(', ')}; got ${JSON.stringify(window)}`);
  const base = thresholds(options.thresholds, 'thresholds', DEFAULT_THRESHOLDS);
  const featureThresholds: Record<string, DriftThresholds> = {};
  if (options.featureThresholds !== undefined) {
    if (typeof options.featureThresholds !== 'object' || options.featureThresholds === null)
      fail('"featureThresholds" must be an object {feature name: {psi?, js?}}');
    for (const [name, value] of Object.entries(options.featureThresholds))
      featureThresholds[name] = thresholds(value, `featureThresholds.${name}`, base);
  }
  const rule = prediction(options.prediction);
  return {
    filter: filterOf(options.filter),
    window,
    reference: reference(options.reference),
    thresholds: base,
    featureThresholds,
    significance: probability(options.significance),
    minCount: count(options.minCount, 'minCount', 100, 1),
    maxPositions: count(options.maxPositions, 'maxPositions', 64, 1, 4096),
    maxCategories: count(options.maxCategories, 'maxCategories', 20, 1, 1000),
    ...rule,
    qualityDrop: positive(options.qualityDrop, 'qualityDrop', rule.prediction.kind === 'regression' ? 0.2 : 0.05),
    minLabelled: count(options.minLabelled, 'minLabelled', 30, 1),
  };
}
