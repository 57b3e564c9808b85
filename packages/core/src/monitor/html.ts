// The monitoring report as one self-contained HTML document: inline SVG charts, one inline style sheet
// allowed by its hash, no script and nothing loaded from elsewhere. Every name in it (models, features,
// tensors, categories) came from the log, so all of it is escaped text (audit/html.ts).
import { contentSecurityPolicy, cut, decimal, html, type Html, integer } from '../audit/html';
import type { FeatureMonitor, ModelMonitor, MonitorReport } from './monitor';

/** The page around the report: type, headings, tables. */
const PAGE_CSS = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: #111; background: #fff; margin: 0 auto; max-width: 1100px; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; } h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 2px solid #ddd; } h3 { font-size: 1.05rem; margin: 1.2rem 0 .2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; } th, td { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } thead th { background: #eee; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; }
`;

/**
 * The charts and flags of `monitorSections`, every rule inside its `.monitor` block, so that a page that
 * shows them (this report, the console's monitoring page) keeps its own `figure`, `svg` and `.ok`.
 */
export const MONITOR_CSS = `
.monitor .flag { color: #9b0014; font-weight: 600; } .monitor .ok { color: #1a6b32; } .monitor .note { color: #555; font-size: .9rem; }
.monitor figure { margin: .4rem 0 1.2rem; } .monitor figcaption { font-size: .9rem; color: #333; }
.monitor svg { display: block; max-width: 100%; height: auto; } .monitor svg text { font: 11px system-ui, sans-serif; fill: #333; }
.monitor .drift-window { fill: #fbd5d9; } .monitor .band { fill: #c9dcf2; } .monitor .line { fill: none; stroke: #1f5fa8; stroke-width: 2; }
.monitor .point { fill: #1f5fa8; } .monitor .bar { fill: #8a8a8a; } .monitor .bar.drift { fill: #c0132b; }
.monitor .limit { stroke: #c0132b; stroke-dasharray: 4 3; } .monitor .axis { stroke: #999; }
`;

const CSS = PAGE_CSS + MONITOR_CSS;

const W = 760;
const TOP = 110;
const BARS = 46;
const LEFT = 56;
const RIGHT = 8;

const day = (iso: string) => iso.replace(/:00:00\.000Z$/, 'h').replace(/T00h$/, '');

/** A chart of one series over the windows: a line (with an optional band) above, the drift statistic's bars below, flagged windows shaded. */
function chart(options: {
  label: string;
  starts: string[];
  line: (number | null)[];
  band?: [number, number][] | null;
  bars: (number | null)[];
  barLabel: string;
  limit: number | null;
  flagged: boolean[];
  tooltips: string[];
  attributes: Html;
}): Html {
  const { starts, line, band, bars, flagged } = options;
  const n = starts.length;
  const column = (W - LEFT - RIGHT) / Math.max(1, n);
  const x = (i: number) => LEFT + column * (i + 0.5);
  const values = [...line, ...(band ?? []).flat()].filter((v): v is number => v !== null && Number.isFinite(v));
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const y = (v: number) => 8 + (TOP - 16) * (1 - (v - lo) / (hi - lo));
  const barMax = Math.max(options.limit ?? 0, ...bars.filter((v): v is number => v !== null)) || 1;
  const barY = (v: number) => TOP + 8 + BARS * (1 - Math.min(v, barMax) / barMax);
  const points = line.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`));
  const path = points.reduce((d, p, i) => (p === null ? d : `${d}${i === 0 || points[i - 1] === null ? 'M' : 'L'}${p} `), '');
  const bandPath = band
    ? `M${band.map(([a], i) => `${x(i).toFixed(1)},${y(a).toFixed(1)}`).join(' L')} L${band
        .map(([, b], i) => `${x(i).toFixed(1)},${y(b).toFixed(1)}`)
        .reverse()
        .join(' L')} Z`
    : '';
  const height = TOP + BARS + 30;
  const every = Math.max(1, Math.ceil(n / 12));
  return html`<svg viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${options.label}" ${options.attributes}>
<title>${options.label}</title>
${starts.map((_, i) => (flagged[i] ? html`<rect class="drift-window" x="${(x(i) - column / 2).toFixed(1)}" y="0" width="${column.toFixed(1)}" height="${TOP + BARS + 10}"></rect>` : ''))}
<line class="axis" x1="${LEFT}" y1="${TOP}" x2="${W - RIGHT}" y2="${TOP}"></line>
<text x="4" y="14">${decimal(hi, 3)}</text><text x="4" y="${TOP - 4}">${decimal(lo, 3)}</text><text x="4" y="${TOP + 22}">${options.barLabel}</text>
${band && band.length > 1 ? html`<path class="band" d="${bandPath}"></path>` : ''}
${path ? html`<path class="line" d="${path}"></path>` : ''}
${line.map((v, i) => (v === null ? '' : html`<circle class="point" cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5"></circle>`))}
${options.limit !== null ? html`<line class="limit" x1="${LEFT}" y1="${barY(options.limit).toFixed(1)}" x2="${W - RIGHT}" y2="${barY(options.limit).toFixed(1)}"></line>` : ''}
${bars.map((v, i) =>
  v === null
    ? ''
    : html`<rect class="bar${flagged[i] ? ' drift' : ''}" x="${(x(i) - column * 0.3).toFixed(1)}" y="${barY(v).toFixed(1)}" width="${(column * 0.6).toFixed(1)}" height="${(TOP + 8 + BARS - barY(v)).toFixed(1)}"><title>${options.tooltips[i]}</title></rect>`,
)}
${starts.map((s, i) => (i % every === 0 ? html`<text x="${x(i).toFixed(1)}" y="${height - 4}" text-anchor="middle">${day(s)}</text>` : ''))}
</svg>`;
}

function featureFigure(model: ModelMonitor, f: FeatureMonitor): Html {
  const numeric = f.kind === 'numeric';
  const top = numeric ? null : (f.windows[0]?.bins?.[0] ?? null);
  const share = (w: FeatureMonitor['windows'][number]) => (w.histogram && w.count ? w.histogram[0]! / w.count : null);
  const starts = f.windows.map((w) => w.start);
  const drifted = f.drifted.length;
  return html`<figure data-feature="${f.name}" data-drifted="${drifted}">
<figcaption><strong>${cut(f.name, 300)}</strong> (${f.kind}) — ${
    drifted
      ? html`<span class="flag">drift in ${integer(drifted)} window${drifted === 1 ? '' : 's'}: ${f.drifted.map(day).join(', ')}</span>`
      : f.compared
        ? html`<span class="ok">no drift</span>`
        : html`<span class="note">not compared</span>`
  }; thresholds PSI ${f.thresholds.psi}, JS ${f.thresholds.js}</figcaption>
${chart({
  label: `${f.name}: ${numeric ? 'mean (band: 5th to 95th percentile)' : `share of "${top ?? '–'}"`} and PSI per window`,
  starts,
  line: f.windows.map((w) => (numeric ? (w.mean ?? null) : share(w))),
  band: numeric ? f.windows.map((w) => (w.quantiles ? [w.quantiles.p05, w.quantiles.p95] : [w.mean ?? 0, w.mean ?? 0])) : null,
  bars: f.windows.map((w) => w.psi),
  barLabel: 'PSI',
  limit: f.thresholds.psi,
  flagged: f.windows.map((w) => w.drift),
  tooltips: f.windows.map(
    (w) =>
      `${w.start}: ${integer(w.count)} values, PSI ${decimal(w.psi, 3)}, JS ${decimal(w.js, 3)}, p ${w.p_value === null ? '–' : w.p_value.toExponential(1)}${w.drift ? ' (DRIFT)' : ''}`,
  ),
  attributes: html`data-model="${model.model_name ?? ''}"`,
})}

</figure>`;
}

function qualitySection(model: ModelMonitor): Html {
  const q = model.quality;
  if (!q) return html``;
  if (!q.windows.length) return html`<h3>Model quality</h3><p class="note">No ground truth for this model's inferences in the range.</p>`;
  const regression = q.rule.kind === 'regression';
  const metric = (w: { accuracy?: number; rmse?: number }) => (regression ? (w.rmse ?? null) : (w.accuracy ?? null));
  return html`<h3>Model quality (${regression ? 'RMSE' : 'accuracy'}, rule ${q.rule.kind}${q.rule.output ? ` on ${q.rule.output}` : ''})</h3>
<figure data-quality="${model.model_name ?? ''}" data-degraded="${q.degraded.length}">
<figcaption>${q.degraded.length ? html`<span class="flag">quality degraded in ${q.degraded.map(day).join(', ')}</span>` : html`<span class="ok">no degradation</span>`}</figcaption>
${chart({
  label: `${regression ? 'RMSE' : 'accuracy'} per window against ground truth`,
  starts: q.windows.map((w) => w.start),
  line: q.windows.map(metric),
  bars: q.windows.map((w) => w.labelled),
  barLabel: 'labels',
  limit: null,
  flagged: q.windows.map((w) => w.degraded),
  tooltips: q.windows.map((w) => `${w.start}: ${integer(w.labelled)} labelled${w.degraded ? ' (DEGRADED)' : ''}`),
  attributes: html``,
})}

</figure>
<table><thead><tr><th>window</th><th>labelled</th>${
    regression ? html`<th>MAE</th><th>RMSE</th>` : html`<th>accuracy</th><th>precision</th><th>recall</th><th>F1</th>`
  }<th>flag</th></tr></thead><tbody>
${q.windows.map(
  (w) =>
    html`<tr><td>${day(w.start)}</td><td class="num">${integer(w.labelled)}</td>${
      regression
        ? html`<td class="num">${decimal(w.mae, 4)}</td><td class="num">${decimal(w.rmse, 4)}</td>`
        : html`<td class="num">${decimal(w.accuracy, 3)}</td><td class="num">${decimal(w.precision, 3)}</td><td class="num">${decimal(w.recall, 3)}</td><td class="num">${decimal(w.f1, 3)}</td>`
    }<td class="${w.degraded ? 'flag' : ''}">${w.degraded ? 'degraded' : ''}</td></tr>\n`,
)}</tbody></table>`;
}

function modelSection(model: ModelMonitor): Html {
  // Names are the clients': cut, so that one cannot fill the page.
  const name = `${cut(model.model_name ?? '(no model name)', 300)}${model.model_version === null ? '' : ` version ${cut(model.model_version, 100)}`}`;
  const flagged = model.features.filter((f) => f.drifted.length);
  return html`<section data-model="${model.model_name ?? ''}">
<h2>${name}</h2>
<p>${integer(model.records)} records in ${integer(model.windows.length)} window${model.windows.length === 1 ? '' : 's'}; reference: ${
    model.reference === 'previous' ? 'each previous window' : `${model.reference.since} to ${model.reference.until}`
  }. ${
    flagged.length
      ? html`<span class="flag">Drift: ${flagged.map((f) => f.name).join(', ')}.</span>`
      : model.features.some((f) => f.compared)
        ? html`<span class="ok">No drift.</span>`
        : html`<span class="note">Nothing compared: the range holds no window besides the reference, or too few values.</span>`
  }</p>
${model.not_compared.length ? html`<p class="flag">Not compared (too few values in the reference or the windows): ${model.not_compared.join(', ')}.</p>` : ''}
${qualitySection(model)}
<h3>Features</h3>
${[...flagged, ...model.features.filter((f) => !f.drifted.length)].map((f) => featureFigure(model, f))}
</section>`;
}

/**
 * What the report says: how it compared, then a section per model (h2) with its quality and a chart per
 * feature (h3), in a `.monitor` block that `MONITOR_CSS` styles. `heading` is its h1; null leaves it to
 * the page around it.
 */
export function monitorSections(report: MonitorReport, heading: string | null = 'Monitoring report'): Html {
  const reference =
    typeof report.reference === 'object' ? `${report.reference.since} to ${report.reference.until}` : `the ${report.reference} window`;
  return html`<div class="monitor"><header>${heading === null ? '' : html`<h1>${heading}</h1>`}
<p class="note">Windows of one ${report.window} (UTC) from ${report.range.since ?? 'the first record'} to ${report.range.until ?? 'the last'}; compared with ${reference}.
A window is flagged when PSI ≥ ${report.thresholds.psi} or the Jensen–Shannon distance ≥ ${report.thresholds.js} (unless set per feature), with a chi-square p-value below ${report.significance}, and at least ${report.min_count} values on both sides. Taken at ${report.generated_at}.</p></header>
${report.models.length ? report.models.map(modelSection) : html`<p>No records match.</p>`}</div>`;
}

/** The monitoring report as a self-contained HTML document (a chart per feature over time, drift windows shaded). */
export function renderMonitorHtml(report: MonitorReport): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(CSS)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>inferlog monitoring report</title>
<style>${CSS}</style>
</head>
<body>
${monitorSections(report)}
</body>
</html>
`;
}
