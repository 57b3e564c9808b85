// What a monitoring run found, in a few figures above the report: the models judged, the features that
// drifted (named per model), the windows of degraded quality, and what was left out or not compared.
import { cut, html, integer, type Html, type ModelMonitor, type MonitorReport } from '@inferlog/core/audit';

/** A model and version as the summary names them (both come from clients: cut, and escaped by `html`). */
export function modelName(m: Pick<ModelMonitor, 'model_name' | 'model_version'>): string {
  const name = m.model_name === null ? '(no model name)' : cut(m.model_name, 80);
  return m.model_version === null ? name : `${name} version ${cut(m.model_version, 40)}`;
}

function figure(label: string, value: Html | string, tone: 'ok' | 'bad' | 'warn' | '' = ''): Html {
  return html`<div class="${tone ? `tone-${tone}` : ''}"><dt>${label}</dt><dd>${value}</dd></div>`;
}

/** Left-out models named; the rest are counted (names come from clients, who can make up many). */
const NAMED = 20;

const plural = (n: number, one: string, many = `${one}s`) => `${integer(n)} ${n === 1 ? one : many}`;

/** The summary of `report`: figures, then the drifted features and degraded windows by model. */
export function monitorSummary(report: MonitorReport): Html {
  const models = report.models;
  const records = models.reduce((n, m) => n + m.records, 0);
  const drifted = models.flatMap((m) => m.drift.map((d) => ({ model: m, ...d })));
  // A feature never compared has no verdict: "no drift" needs some comparison.
  const judged = models.some((m) => m.features.some((f) => f.compared > 0));
  const withQuality = models.filter((m) => m.quality);
  const degraded = withQuality.reduce((n, m) => n + m.quality!.degraded.length, 0);
  const labelled = withQuality.some((m) => m.quality!.windows.length);
  const quality = !withQuality.length
    ? 'not measured (no prediction rule)'
    : !labelled
      ? 'not measured (no ground truth in the range)'
      : degraded
        ? plural(degraded, 'window')
        : 'none';
  const notCompared = models.reduce((n, m) => n + m.not_compared.length, 0);
  const tensors = models.reduce((n, m) => n + m.skipped_tensors, 0);
  const skipped = report.skipped_models.length;
  const flagged = models.filter((m) => m.drift.length || m.quality?.degraded.length);
  return html`<section class="monitor-summary" aria-labelledby="monitor-summary-title">
<h2 id="monitor-summary-title">Summary</h2>
<dl class="summary">
${figure('Models judged', `${plural(models.length, 'model version')} (${plural(records, 'record')})`)}
${
  drifted.length
    ? figure('Drifted features', plural(drifted.length, 'feature'), 'bad')
    : judged
      ? figure('Drifted features', 'none', 'ok')
      : figure('Drifted features', 'none judged (nothing compared)', 'warn')
}
${figure('Degraded quality windows', quality, degraded ? 'bad' : labelled ? 'ok' : '')}
${figure('Features not compared', notCompared ? plural(notCompared, 'feature') : 'none', notCompared ? 'warn' : '')}
${figure('Left out', skipped || tensors ? `${plural(skipped, 'model')}, ${plural(tensors, 'tensor')}` : 'nothing', skipped || tensors ? 'warn' : '')}
</dl>
${
  flagged.length
    ? html`<ul class="monitor-flags">${flagged.map(
        (m) =>
          html`<li><strong>${modelName(m)}</strong>: ${[
            ...m.drift.map((d) => html`drift in <code>${cut(d.feature, 120)}</code> (${plural(d.windows.length, 'window')})`),
            ...(m.quality?.degraded.length ? [html`quality degraded in ${plural(m.quality.degraded.length, 'window')}`] : []),
          ].map((part, i) => html`${i ? '; ' : ''}${part}`)}</li>`,
      )}</ul>`
    : ''
}
${skipped ? html`<p class="hint">Left out (the fewest records; all of them would exceed what one run profiles): ${report.skipped_models.slice(0, NAMED).map((m, i) => html`${i ? ', ' : ''}${modelName(m)} (${integer(m.records)})`)}${skipped > NAMED ? ` and ${integer(skipped - NAMED)} more` : ''}. Choose one with Model.</p>` : ''}
${tensors ? html`<p class="hint">Tensors left out: only the 100 most frequent tensors of a model are profiled.</p>` : ''}
</section>`;
}
