import { InferlogConfigError } from '@inferlog/core';
import { html, monitorLog, monitorSections, type Html, type ModelMonitor } from '@inferlog/core/audit';
import { fromElsewhere } from '../access';
import type { ConsoleContext } from '../context';
import type { Page } from '../layout';
import { monitorSummary } from '../render/monitor-summary';
import { monitorForm, readMonitorForm } from './monitor-form';

/**
 * Drift and model quality per model and window, as `inferlog monitor` finds them, with the report's own
 * server-drawn charts. The monitor runs only when the form is sent: it reads every record in the range.
 */
export async function monitorPage(ctx: ConsoleContext): Promise<Page> {
  const request = readMonitorForm(ctx.url.searchParams);
  const page = (content: Html): Page => ({
    kind: 'page',
    title: 'Monitoring',
    section: 'monitor',
    body: html`<h1>Monitoring</h1>
<p class="hint">Each feature of each model (latency, status, schema errors, token usage, tensor elements) profiled per UTC window and compared with a reference window: population stability index and Jensen–Shannon distance, flagged only when a chi-square test says the change is not sampling noise. Since defaults to the last 14 days.</p>
${monitorForm(ctx.href('/monitor'), request)}
${content}`,
  });
  if (Object.keys(request.problems).length)
    return page(
      html`<div class="error-box" role="alert">A field could not be read: see the field marked above. The monitor did not run.</div>`,
    );
  if (!request.run || !request.options)
    return page(html`<p class="muted">Choose the range and press <strong>Run the monitor</strong>.</p>`);
  // A link from another site shows the form filled in; the run starts when a person presses the button here.
  if (fromElsewhere(ctx.req))
    return page(html`<p class="muted">Opened from another site: check the range and press <strong>Run the monitor</strong>.</p>`);
  try {
    const options = request.options;
    const found = await ctx.longWork.run(() => monitorLog(ctx.db, ctx.schema, ctx.table, options));
    // What was flagged first, then by records: the report's own order is by name, which clients choose.
    const flagged = (m: ModelMonitor) => (m.drift.length || m.quality?.degraded.length ? 1 : 0);
    const report = { ...found, models: [...found.models].sort((a, b) => flagged(b) - flagged(a) || b.records - a.records) };
    return page(html`${monitorSummary(report)}
${monitorSections(report, null)}`);
  } catch (err) {
    if (!(err instanceof InferlogConfigError)) throw err;
    return page(
      html`<div class="error-box" role="alert" id="monitor-problem">The monitor could not run with these options: ${err.message.replace(/^inferlog: (monitor: )?/, '')}</div>`,
    );
  }
}
