// The statistics as a table: the figures the charts draw, one row per model and day (newest day first),
// readable without script. Each model name links to that model's records of that day.
import { cut, decimal, html, integer, percent, type DailyModelStats, type Html } from '@inferlog/core/audit';
import type { ConsoleContext } from '../context';
import { modelLabel, nextDay, type StatsLayout } from './stats-series';

/** Rows drawn at most: a long range of many models would make a page nobody reads; the charts keep every day. */
export const MAX_TABLE_ROWS = 500;

const ms = (n: number | null) => (n === null ? '–' : decimal(n, 1));

/**
 * The table of `layout`'s rows. `kept` are the page's filter fields: a model's link keeps them (so the records
 * listed are those counted) with the model and the day (within `range`, the range counted) in place of model, since and until.
 */
export function statsTable(
  ctx: ConsoleContext,
  layout: StatsLayout,
  kept: Record<string, string>,
  range: { since: Date; until: Date | null },
): Html {
  const order = new Map(layout.charted.map((m, i) => [m.model, i]));
  const usage = new Set(layout.charted.filter((m) => m.usage).map((m) => m.model));
  const rows = [...layout.rows].sort((a, b) =>
    a.day < b.day ? 1 : a.day > b.day ? -1 : order.get(a.model_name)! - order.get(b.model_name)!,
  );
  const shown = rows.slice(0, MAX_TABLE_ROWS);
  const { since: _since, until: _until, model: _model, ...rest } = kept;
  const name = (r: DailyModelStats) => {
    const index = order.get(r.model_name)!;
    const swatch = html`<span class="swatch s${index}" aria-hidden="true"></span>`;
    if (r.model_name === null) return html`${swatch}<span class="muted">${modelLabel(null)}</span>`;
    // The day, within the range counted: the records listed are exactly those counted.
    const start = Date.parse(`${r.day}T00:00:00Z`);
    const end = Date.parse(`${nextDay(r.day)}T00:00:00Z`);
    const since = start >= range.since.getTime() ? r.day : range.since.toISOString();
    const until = !range.until || end <= range.until.getTime() ? nextDay(r.day) : range.until.toISOString();
    const href = ctx.href('/records', { ...rest, model: r.model_name, since, until });
    return html`${swatch}<a href="${href}" title="${cut(r.model_name, 300)}">${cut(r.model_name, 60)}</a>`;
  };
  const tokens = (r: DailyModelStats, n: number) => (usage.has(r.model_name) ? integer(n) : '–');
  return html`<div class="table-wrap"><table class="stats">
<caption class="visually-hidden">Records, errors, latency and tokens per model and UTC day</caption>
<thead><tr><th scope="col">Day (UTC)</th><th scope="col">Model</th><th scope="col" class="num">Records</th><th scope="col" class="num">Errors</th><th scope="col" class="num">Error rate %</th><th scope="col" class="num">p50 ms</th><th scope="col" class="num">p95 ms</th><th scope="col" class="num">Input tokens</th><th scope="col" class="num">Output tokens</th></tr></thead>
<tbody>
${shown.map(
  (r, i) => html`<tr${i && r.day !== shown[i - 1]!.day ? html` class="day-start"` : ''}>
<td class="nowrap"><time datetime="${r.day}">${r.day}</time></td>
<td class="model">${name(r)}</td>
<td class="num">${integer(r.count)}</td>
<td class="num">${integer(r.errors)}</td>
<td class="num">${percent(r.error_rate)}</td>
<td class="num">${ms(r.p50_ms)}</td>
<td class="num">${ms(r.p95_ms)}</td>
<td class="num">${tokens(r, r.input_tokens)}</td>
<td class="num">${tokens(r, r.output_tokens)}</td>
</tr>
`,
)}</tbody></table></div>
${rows.length > shown.length ? html`<p class="hint">The newest ${integer(MAX_TABLE_ROWS)} of ${integer(rows.length)} rows are listed; the charts have every day. Narrow the range (Since, Until) for older days.</p>` : ''}`;
}
