import { cut, html, integer, logStats, type Html } from '@inferlog/core/audit';
import type { ConsoleContext } from '../context';
import { filterForm, parseFilter, type FilterField } from '../filters';
import type { Page } from '../layout';
import { chartBlock } from '../render/chart';
import { layoutStats, MAX_CHARTED_MODELS, modelLabel, statsCharts, type ModelTotal } from '../render/stats-series';
import { statsTable } from '../render/stats-table';

const FIELDS: readonly FilterField[] = ['since', 'until', 'model', 'version', 'route', 'status', 'protocol', 'annotation'];
/** The range when no Since is given: the 30 days before Until (or now). */
const DEFAULT_DAYS = 30;
/** Left-out models named on the page; the rest are counted. */
const NAMED_OTHERS = 10;

/** An instant to the minute, UTC; the exact one in the element's datetime. */
const instant = (at: Date): Html =>
  html`<time datetime="${at.toISOString()}">${at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>`;

function othersNote(ctx: ConsoleContext, others: ModelTotal[], kept: Record<string, string>): Html {
  if (!others.length) return html``;
  const named = others.slice(0, NAMED_OTHERS);
  const records = others.reduce((n, m) => n + m.records, 0);
  const link = (m: ModelTotal) =>
    m.model === null
      ? html`<span class="muted">${modelLabel(null)}</span> (${integer(m.records)})`
      : html`<a href="${ctx.href('/stats', { ...kept, model: m.model })}" title="${cut(m.model, 300)}">${cut(m.model, 40)}</a> (${integer(m.records)})`;
  return html`<p class="hint stats-others">${integer(others.length)} other model${others.length === 1 ? ' is' : 's are'} left out of the charts and the table (${integer(records)} records): only the ${MAX_CHARTED_MODELS} with the most records are drawn. Filter by model to see one: ${named.map((m, i) => html`${i ? ', ' : ''}${link(m)}`)}${others.length > named.length ? html`, and ${integer(others.length - named.length)} more` : ''}.</p>`;
}

/** Records, errors, latency and tokens per model and UTC day, as charts and as a table; the last 30 days unless Since is given. */
export async function statsPage(ctx: ConsoleContext): Promise<Page> {
  const now = new Date();
  const params = new URLSearchParams();
  for (const field of FIELDS) {
    const value = ctx.url.searchParams.get(field);
    if (value !== null) params.set(field, value);
  }
  const parsed = parseFilter(params, now);
  const defaulted = parsed.filter.since === undefined;
  const filter = { ...parsed.filter };
  if (defaulted) filter.since = new Date((filter.until ?? now).getTime() - DEFAULT_DAYS * 86_400_000);
  const layout = layoutStats(await logStats(ctx.db, ctx.schema, ctx.table, filter));
  const charts = statsCharts(layout);
  const invalid = Object.keys(parsed.problems).length > 0;
  const narrowed = Object.keys(parsed.kept).some((k) => k !== 'since' && k !== 'until');
  return {
    kind: 'page',
    title: 'Statistics',
    section: 'stats',
    charts: true,
    body: html`<h1>Statistics</h1>
${filterForm(ctx.href('/stats'), ctx.href('/stats'), parsed, FIELDS)}
${invalid ? html`<div class="error-box" role="alert">A filter could not be read and is not applied: see the field marked above.</div>` : ''}
<p class="hint">Per model and UTC day, records from ${instant(filter.since!)} to ${filter.until ? instant(filter.until) : 'now'}${narrowed ? ', filtered' : ''}.${defaulted ? html` <strong>Since ${parsed.kept.since ? 'could not be read' : 'is not given'}: the last ${DEFAULT_DAYS} days are shown.</strong>` : ''} An error is a status of 400 or more, or an error recorded. Latency percentiles are interpolated.</p>
${
  layout.rows.length
    ? html`${othersNote(ctx, layout.others, parsed.kept)}
<div class="charts">
${charts.map((c) => chartBlock(c.id, c.spec))}
</div>
<h2>Figures per model and day</h2>
${statsTable(ctx, layout, parsed.kept, { since: filter.since!, until: filter.until ?? null })}`
    : html`<p class="muted">No records in this range${narrowed ? ' match the filter' : ''}.</p>`
}`,
  };
}
