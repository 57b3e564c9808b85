// The monitoring form: the range and model (read as the record filters read them), the window, the
// reference and an optional prediction rule, as `monitorLog` options. The rule's parts are separate fields
// (kind, threshold, output, classes), so nothing here parses a compound value; `monitorLog` checks the
// options themselves and its message is shown next to the form.
import { html, MONITOR_WINDOWS, type Html, type MonitorOptions, type MonitorWindow, type PredictionRule } from '@inferlog/core/audit';
import { FILTER_FIELDS, parseFilter } from '../filters';
import { describedBy, textField, underField } from '../render/fields';

/** The range when no Since is given. */
export const DEFAULT_SINCE = '14d';

const REFERENCES = [
  ['first', 'the first window'],
  ['previous', 'the previous window'],
] as const;
const RULES = [
  ['', 'none (drift only)'],
  ['argmax', 'argmax (class = largest output)'],
  ['threshold', 'threshold (positive at or above)'],
  ['regression', 'regression (output is the value)'],
] as const;

type Field = 'since' | 'until' | 'model' | 'window' | 'reference' | 'predict' | 'threshold' | 'output' | 'classes';

/** The form as read: each field's text, what is wrong with each, and the options when nothing is. */
export interface MonitorRequest {
  /** Whether the form was sent (the monitor runs only then: it reads every record in the range). */
  run: boolean;
  values: Record<Field, string>;
  problems: Partial<Record<Field, string>>;
  options: MonitorOptions | null;
}

const MAX_FIELD = 1000;

/** Reads the monitoring form from a query; never throws. */
export function readMonitorForm(params: URLSearchParams, now = new Date()): MonitorRequest {
  const text = (name: Field) => (params.get(name) ?? '').slice(0, MAX_FIELD).trim();
  const values = {
    since: text('since') || DEFAULT_SINCE,
    until: text('until'),
    model: (params.get('model') ?? '').slice(0, MAX_FIELD),
    window: text('window') || 'day',
    reference: text('reference') || 'first',
    predict: text('predict'),
    threshold: text('threshold'),
    output: (params.get('output') ?? '').slice(0, MAX_FIELD),
    classes: (params.get('classes') ?? '').slice(0, MAX_FIELD),
  };
  const range = new URLSearchParams({ since: values.since, until: values.until, model: values.model });
  const parsed = parseFilter(range, now);
  const problems: MonitorRequest['problems'] = { ...parsed.problems };
  if (!MONITOR_WINDOWS.includes(values.window as MonitorWindow))
    problems.window = `the window must be one of ${MONITOR_WINDOWS.join(', ')}`;
  if (!REFERENCES.some(([v]) => v === values.reference)) problems.reference = 'the reference must be the first or the previous window';
  if (!RULES.some(([v]) => v === values.predict)) problems.predict = 'choose a rule from the list';
  const threshold = values.threshold === '' ? undefined : Number(values.threshold);
  if (threshold !== undefined && !Number.isFinite(threshold)) problems.threshold = 'the threshold must be a number (e.g. 0.7)';
  else if (threshold !== undefined && values.predict !== 'threshold') problems.threshold = 'only the threshold rule takes a threshold';
  for (const field of ['output', 'classes'] as const)
    if (values[field] !== '' && values.predict === '') problems[field] = 'needs a prediction rule (argmax, threshold or regression)';
  if (Object.keys(problems).length) return { run: params.has('run'), values, problems, options: null };
  const prediction: PredictionRule | undefined = values.predict
    ? {
        kind: values.predict as PredictionRule['kind'],
        ...(threshold !== undefined ? { threshold } : {}),
        ...(values.output !== '' ? { output: values.output } : {}),
        ...(values.classes.trim() !== '' ? { classes: values.classes.split(',').map((c) => c.trim()) } : {}),
      }
    : undefined;
  return {
    run: params.has('run'),
    values,
    problems,
    options: {
      filter: parsed.filter,
      window: values.window as MonitorWindow,
      reference: values.reference as 'first' | 'previous',
      ...(prediction ? { prediction } : {}),
    },
  };
}

function input(request: MonitorRequest, field: Field, label: string, placeholder: string): Html {
  return textField({ name: field, label, value: request.values[field], placeholder, problem: request.problems[field] });
}

function select(request: MonitorRequest, field: Field, label: string, choices: readonly (readonly [string, string])[]): Html {
  const problem = request.problems[field];
  return html`<label>${label}<select name="${field}"${describedBy(field, problem)}>${choices.map(
    ([value, text]) => html`<option value="${value}"${request.values[field] === value ? html` selected` : ''}>${text}</option>`,
  )}</select>${underField(field, problem)}</label>`;
}

const hint = (field: 'since' | 'until' | 'model') => FILTER_FIELDS.find(([name]) => name === field)![2];

/** The form, with the fields as given and a problem under any field that has one. */
export function monitorForm(action: string, request: MonitorRequest): Html {
  return html`<form class="filters monitor-form" method="get" action="${action}" aria-label="Monitoring options" data-busy="Running the monitor: it reads every record in the range, which can take many seconds on a large log…">
${input(request, 'since', 'Since', hint('since'))}
${input(request, 'until', 'Until', hint('until'))}
${input(request, 'model', 'Model', hint('model'))}
${select(
  request,
  'window',
  'Window (UTC)',
  MONITOR_WINDOWS.map((w) => [w, w] as const),
)}
${select(request, 'reference', 'Compared with', REFERENCES)}
${select(request, 'predict', 'Prediction rule (quality)', RULES)}
${input(request, 'threshold', 'Threshold', 'threshold rule: 0.5')}
${input(request, 'output', 'Output tensor', 'default: the first')}
${input(request, 'classes', 'Classes', 'comma-separated: no,yes')}
<input type="hidden" name="run" value="1">
<div class="actions monitor-actions"><button type="submit">Run the monitor</button><a class="button secondary" href="${action}">Reset</a>
<span class="busy hint" aria-live="polite"></span></div>
<p class="hint monitor-note">The monitor reads every record in the range and profiles each feature per window: on a large log it takes many seconds. Quality needs a prediction rule and <code>ground_truth</code> events.</p>
</form>`;
}
