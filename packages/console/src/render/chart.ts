// A chart the client script draws with uPlot: the data travels as JSON in a <script type="application/json">
// block (data, never run: the policy runs only the console's own script files), with `<` escaped so no
// value can close the block. The page also shows the same figures as a table for readers without script.
import { Html, html } from '@inferlog/core/audit';

/** One chart: x values are UTC seconds; each series has one value (or null) per x. */
export interface ChartSpec {
  title: string;
  /** The y axis' unit, shown on the axis (`ms`, `%`, `records`). */
  unit: string;
  x: number[];
  series: { label: string; values: (number | null)[] }[];
  /** Draw bars instead of lines (counts per day, when one series: uPlot draws bars of several series over each other). */
  bars?: boolean;
}

/** JSON safe inside a script element: `<`, `>`, `&` and the line separators as escapes. */
export function scriptJson(value: unknown): Html {
  return new Html(JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** A figure with the chart's title, the element uPlot draws into, and its data. `id` must be unique on the page. */
export function chartBlock(id: string, spec: ChartSpec): Html {
  return html`<figure class="chart">
<h3>${spec.title}</h3>
<div class="chart-area" data-chart="${id}" role="img" aria-label="${spec.title}: chart; the same figures are in the table below"></div>
<script type="application/json" id="${id}">${scriptJson(spec)}</script>
<noscript><p class="hint">The chart is drawn by the console's script; the table below has the same figures.</p></noscript>
</figure>`;
}
