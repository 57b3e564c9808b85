import { rename, rm, writeFile } from 'node:fs/promises';
import {
  MONITOR_WINDOWS,
  monitorLog,
  parseInstant,
  renderMonitorHtml,
  type DriftThresholds,
  type ModelMonitor,
  type MonitorOptions,
  type MonitorReport,
  type MonitorWindow,
  type PredictionRule,
} from '@inferlog/core/audit';
import { InvalidArgumentError, Option } from 'commander';
import { act, type CommandModule } from '../context';
import { withLog } from '../database';
import { CliError, EXIT } from '../errors';
import { addFilterOptions, addLogOptions, filterOf, logOptionsOf, wholeNumber, type CommonOptions, type FilterOptions } from '../options';
import { count, fit, indent, print, printJson, table } from '../output';

interface MonitorCliOptions extends CommonOptions, FilterOptions {
  window: MonitorWindow;
  reference?: MonitorOptions['reference'];
  psi?: number;
  js?: number;
  featureThreshold: Record<string, DriftThresholds>;
  significance?: number;
  minCount?: number;
  maxPositions?: number;
  maxCategories?: number;
  predict?: Pick<PredictionRule, 'kind' | 'threshold'>;
  output?: string;
  position?: number;
  classes?: string[];
  qualityDrop?: number;
  minLabelled?: number;
  html?: string;
  all?: boolean;
  failOnDrift?: boolean;
}

function positiveNumber(name: string, max = Number.POSITIVE_INFINITY): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max)
      throw new InvalidArgumentError(`${name} must be a number > 0${max < Number.POSITIVE_INFINITY ? ` and ≤ ${max}` : ''}`);
    return n;
  };
}

/** `first`, `previous`, or `SINCE..UNTIL` (instants as the filters take them). */
function parseReference(value: string): MonitorOptions['reference'] {
  if (value === 'first' || value === 'previous') return value;
  const parts = value.split('..');
  if (parts.length !== 2)
    throw new InvalidArgumentError('--reference must be first, previous or SINCE..UNTIL (e.g. 2026-03-01..2026-03-08)');
  try {
    return { since: parseInstant(parts[0]!, '--reference'), until: parseInstant(parts[1]!, '--reference') };
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message.replace(/^inferlog: /, ''));
  }
}

/** `argmax`, `regression`, `threshold` or `threshold:0.7`. */
function parsePredict(value: string): Pick<PredictionRule, 'kind' | 'threshold'> {
  const m = /^(argmax|regression|threshold)(?::(-?\d+(?:\.\d+)?(?:e-?\d+)?))?$/.exec(value.trim());
  if (!m || (m[2] !== undefined && m[1] !== 'threshold'))
    throw new InvalidArgumentError('--predict must be argmax, regression, threshold or threshold:T (e.g. threshold:0.7)');
  return m[2] === undefined ? { kind: m[1] as PredictionRule['kind'] } : { kind: 'threshold', threshold: Number(m[2]) };
}

/** `NAME=psi:0.3,js:0.15` (the name is everything before the last `=`), repeatable. */
function parseFeatureThreshold(value: string, previous: Record<string, DriftThresholds> = {}): Record<string, DriftThresholds> {
  const at = value.lastIndexOf('=');
  const name = value.slice(0, at);
  const spec: DriftThresholds = {};
  for (const part of at > 0 ? value.slice(at + 1).split(',') : []) {
    const [key, n] = part.split(':');
    const number = Number(n);
    if ((key !== 'psi' && key !== 'js') || n === undefined || !(number > 0)) {
      throw new InvalidArgumentError('--feature-threshold must be NAME=psi:X,js:Y (either or both; e.g. "inputs.features[2]=psi:0.3")');
    }
    spec[key] = number;
  }
  if (at <= 0 || !Object.keys(spec).length)
    throw new InvalidArgumentError('--feature-threshold must be NAME=psi:X,js:Y (either or both; e.g. "inputs.features[2]=psi:0.3")');
  return { ...previous, [name]: spec };
}

const fixed = (n: number | null | undefined, digits = 3) => (n === null || n === undefined ? '-' : n.toFixed(digits));
const short = (iso: string) => iso.replace(/T00:00:00\.000Z$/, '').replace(/:00:00\.000Z$/, 'h');

function renderModel(m: ModelMonitor, all: boolean): string {
  const lines = [
    `${fit(m.model_name ?? '(no model name)', 120)}${m.model_version === null ? '' : ` version ${fit(m.model_version, 60)}`}: ${count(m.records)} records in ${m.windows.length} windows, reference ${
      m.reference === 'previous' ? 'each previous window' : `${short(m.reference.since)} .. ${short(m.reference.until)}`
    }`,
  ];
  const shown = all ? m.features : m.features.filter((f) => f.drifted.length);
  if (shown.length)
    lines.push(
      indent(
        table(shown, [
          { header: 'feature', value: (f) => f.name },
          { header: 'kind', value: (f) => f.kind },
          { header: 'max PSI', value: (f) => fixed(Math.max(...f.windows.map((w) => w.psi ?? 0))), right: true },
          { header: 'max JS', value: (f) => fixed(Math.max(...f.windows.map((w) => w.js ?? 0))), right: true },
          { header: 'ref mean', value: (f) => fixed(f.reference.mean), right: true },
          { header: 'last mean', value: (f) => fixed(f.windows.at(-1)?.mean), right: true },
          { header: 'drift in', value: (f) => (f.drifted.length ? `${f.drifted.length}: ${f.drifted.map(short).join(' ')}` : '-') },
        ]),
      ),
    );
  const quiet = m.features.length - m.features.filter((f) => f.drifted.length).length;
  lines.push(
    indent(
      `${m.features.filter((f) => f.drifted.length).length ? 'DRIFT in the features above' : m.features.some((f) => f.compared) ? 'no drift' : 'nothing compared (no window besides the reference, or too few values)'}; ${quiet} of ${m.features.length} features without drift${all ? '' : ' (--all lists every feature)'}`,
    ),
  );
  if (m.not_compared.length)
    lines.push(
      indent(
        `NOT COMPARED (fewer than the minimum values in the reference or the windows): ${m.not_compared.map((n) => fit(n, 60)).join(', ')}`,
      ),
    );
  if (m.skipped_tensors)
    lines.push(indent(`${count(m.skipped_tensors)} tensors left out: only the 100 most frequent of a model are profiled`));
  const q = m.quality;
  if (q) {
    const regression = q.rule.kind === 'regression';
    lines.push(
      indent(
        table(q.windows, [
          { header: 'window', value: (w) => short(w.start) },
          { header: 'labelled', value: (w) => count(w.labelled), right: true },
          ...(regression
            ? [
                { header: 'MAE', value: (w: (typeof q.windows)[number]) => fixed(w.mae, 4), right: true },
                { header: 'RMSE', value: (w: (typeof q.windows)[number]) => fixed(w.rmse, 4), right: true },
              ]
            : [
                { header: 'accuracy', value: (w: (typeof q.windows)[number]) => fixed(w.accuracy), right: true },
                { header: 'precision', value: (w: (typeof q.windows)[number]) => fixed(w.precision), right: true },
                { header: 'recall', value: (w: (typeof q.windows)[number]) => fixed(w.recall), right: true },
                { header: 'F1', value: (w: (typeof q.windows)[number]) => fixed(w.f1), right: true },
              ]),
          { header: 'quality', value: (w) => (w.degraded ? 'DEGRADED' : '') },
        ]),
      ),
    );
  }
  return lines.join('\n');
}

function render(report: MonitorReport, all: boolean): string {
  if (!report.models.length) return 'no records match: nothing to judge';
  return report.models.map((m) => renderModel(m, all)).join('\n\n');
}

/** `inferlog monitor`: profiles, drift and model quality per model, version and window. */
export const monitor: CommandModule = (program, ctx) => {
  addLogOptions(
    addFilterOptions(
      program
        .command('monitor')
        .summary('drift, data quality and model quality per model and window (PSI, Jensen–Shannon; ground truth), as a table, JSON or HTML')
        .description(
          'Profiles every feature of the records that match the filters per model, version and UTC window: latency, status, ' +
            'schema errors, token usage, each element of fixed-shape numeric tensors (inputs.<name>[i], outputs.<name>[i]), the ' +
            'values of BYTES tensors (or their length, for text), the length and mean of other tensors. Each window is compared ' +
            'with the reference (--reference: the first window, the previous one, or a range): PSI and Jensen–Shannon distance on ' +
            "the reference's deciles or categories; a window is flagged when either reaches its threshold and the chi-square test " +
            'says it is not sampling noise (--significance). With --predict, outputs become predictions and are held against the ' +
            'latest ground_truth event of each inference (data.label): accuracy, precision, recall, F1, or MAE and RMSE, flagged ' +
            'when they fall below the reference by more than --quality-drop. Aggregation runs in PostgreSQL in one read-only ' +
            'snapshot. --html writes a self-contained report with a chart per feature. Exits 0, or 1 with --fail-on-drift when ' +
            'something is flagged. See docs/monitoring.md.',
        )
        .addOption(new Option('--window <length>', 'window length').choices(MONITOR_WINDOWS).default('day'))
        .option('--reference <first|previous|SINCE..UNTIL>', 'what each window is compared with (default: first)', parseReference)
        .option('--psi <x>', 'PSI threshold of every feature (default 0.2)', positiveNumber('--psi'))
        .option('--js <x>', 'Jensen–Shannon distance threshold of every feature (default 0.1)', positiveNumber('--js', 1))
        .option('--feature-threshold <NAME=psi:X,js:Y>', 'thresholds of one feature (repeatable)', parseFeatureThreshold, {})
        .option(
          '--significance <p>',
          'flag only changes whose p-value is below this (default 0.001; 1: thresholds alone)',
          positiveNumber('--significance', 1),
        )
        .option('--min-count <n>', 'compare only windows with at least this many values (default 100)', wholeNumber('--min-count', 1))
        .option(
          '--max-positions <n>',
          'numeric tensors up to this many elements per sample get a feature per position (default 64)',
          wholeNumber('--max-positions', 1, 4096),
        )
        .option(
          '--max-categories <n>',
          'BYTES tensors with up to this many distinct reference values are categorical (default 20)',
          wholeNumber('--max-categories', 1, 1000),
        )
        .option('--predict <rule>', 'model quality: argmax, threshold[:T] (default 0.5) or regression', parsePredict)
        .option('--output <tensor>', 'the output tensor predictions come from (default: the first)')
        .option('--position <i>', 'the element used by threshold and regression (default 0)', wholeNumber('--position', 0))
        .option('--classes <labels>', 'class labels by position, comma-separated (threshold: negative,positive)', (v: string) =>
          v.split(','),
        )
        .option(
          '--quality-drop <x>',
          'flag quality below the reference by more than this (default 0.05 accuracy; 0.2 relative RMSE)',
          positiveNumber('--quality-drop'),
        )
        .option('--min-labelled <n>', 'judge quality only with at least this many labels (default 30)', wholeNumber('--min-labelled', 1))
        .option('--html <file>', 'also write the report as a self-contained HTML document')
        .option('--all', 'list every feature, not only those with drift')
        .option('--fail-on-drift', 'exit 1 when a feature drifted or quality degraded'),
    ),
  ).action(
    act(ctx, async (opts: MonitorCliOptions) => {
      const orphan = (['output', 'position', 'classes', 'qualityDrop', 'minLabelled'] as const).find((k) => opts[k] !== undefined);
      if (orphan && !opts.predict)
        throw new CliError(
          `--${orphan.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --predict (argmax, threshold[:T] or regression)`,
          EXIT.usage,
        );
      return withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const report = await monitorLog(log.db, log.schema, log.table, {
          filter: filterOf(opts),
          window: opts.window,
          reference: opts.reference,
          thresholds: { psi: opts.psi, js: opts.js },
          featureThresholds: opts.featureThreshold,
          significance: opts.significance,
          minCount: opts.minCount,
          maxPositions: opts.maxPositions,
          maxCategories: opts.maxCategories,
          prediction: opts.predict ? { ...opts.predict, output: opts.output, position: opts.position, classes: opts.classes } : undefined,
          qualityDrop: opts.qualityDrop,
          minLabelled: opts.minLabelled,
        });
        if (opts.html) {
          await writeFile(`${opts.html}.partial`, renderMonitorHtml(report));
          await rename(`${opts.html}.partial`, opts.html).catch(async (err) => {
            await rm(`${opts.html}.partial`, { force: true });
            throw err;
          });
        }
        if (opts.json) printJson(ctx.io, report);
        else {
          print(ctx.io, render(report, Boolean(opts.all)));
          if (opts.html) print(ctx.io, `\nwrote ${opts.html}`);
        }
        // A model with nothing compared has no verdict: under --fail-on-drift that fails too.
        if (report.skipped_models.length && !opts.json)
          print(
            ctx.io,
            `\n${count(report.skipped_models.length)} models left out (the fewest records; all of them would pass 2,000 features or 50,000 window × feature cells): use --model`,
          );
        // No records at all has no verdict either: under --fail-on-drift a log that stopped filling fails.
        const flagged =
          !report.models.length ||
          report.models.some(
            (m) => m.drift.length || m.quality?.degraded.length || (m.features.length && m.not_compared.length === m.features.length),
          );
        return opts.failOnDrift && flagged ? EXIT.failed : EXIT.ok;
      });
    }),
  );
};
