import { html, integer, type Html } from './html';

/** A column of a data table: its header (with the unit) and how a row shows in it. */
export interface TableColumn<T> {
  header: string;
  cell: (row: T) => Html | string;
  /**
   * `number`: right-aligned, tabular figures; `time`: a day or an instant, kept on one line; `text`: text
   * a client chose (a model name, a route, an actor), which may break anywhere, so a long value cannot
   * widen the page.
   */
  kind?: 'number' | 'time' | 'text';
}

const CLASS = { number: 'num', time: 'time', text: 'wrap' } as const;

/** Options of `dataTable`. */
export interface TableOptions {
  /** What an empty table says instead. */
  empty: string;
  /** Rows shown at most; the rest are counted in a note. */
  limit?: number;
  /** Rows that exist beyond those given (cut off before they reached the table), counted in the note too. */
  beyond?: number;
  /** Where the rows left out can be read. */
  more?: string;
}

/** A table of rows under a caption, with a header row; long tables are cut at `limit` with a note saying so. */
export function dataTable<T>(caption: string, rows: readonly T[], columns: readonly TableColumn<T>[], options: TableOptions): Html {
  if (rows.length === 0) return html`<p class="empty"><strong>${caption}:</strong> ${options.empty}</p>`;
  const shown = options.limit === undefined ? rows : rows.slice(0, options.limit);
  const left = rows.length - shown.length + (options.beyond ?? 0);
  const cls = (c: TableColumn<T>) => (c.kind ? html` class="${CLASS[c.kind]}"` : '');
  return html`<table>
<caption>${caption}</caption>
<thead><tr>${columns.map((c) => html`<th scope="col"${cls(c)}>${c.header}</th>`)}</tr></thead>
<tbody>
${shown.map((row) => html`<tr>${columns.map((c) => html`<td${cls(c)}>${c.cell(row)}</td>`)}</tr>\n`)}</tbody>
</table>
${left > 0 ? html`<p class="note">${integer(left)} more row${left === 1 ? '' : 's'} not shown${options.more ? `: ${options.more}` : ''}.</p>` : ''}`;
}

/** A two-column table of facts: a label (with its unit) and a value. */
export function factTable(caption: string, facts: readonly [string, Html | string][]): Html {
  return html`<table class="facts">
<caption>${caption}</caption>
<tbody>
${facts.map(([label, value]) => html`<tr><th scope="row">${label}</th><td>${value}</td></tr>\n`)}</tbody>
</table>`;
}
