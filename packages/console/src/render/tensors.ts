// Tensors as tables that follow their shape: a vector in rows of 16 with the index of each row's first
// element, a matrix as rows × columns, and a tensor of more dimensions as one matrix per leading index.
// Data is read row-major, flat or nested. A client chooses the shape: what is drawn is bounded, and a
// shape that does not fit the data is said, with the data shown as a flat list.
import { cut, html, integer, type Html, type LoggedTensor } from '@inferlog/core/audit';

/** Cells drawn per tensor at most; the rest is said and left to the JSON below the table. */
export const MAX_CELLS = 2000;
const VECTOR_ROW = 16;
/** Wider matrices are drawn as a vector: a table of thousands of columns is not readable. */
const MAX_COLUMNS = 64;
const MAX_TEXT = 300;

function flatten(data: unknown, out: unknown[], limit: number): number {
  if (!Array.isArray(data)) {
    if (out.length < limit) out.push(data);
    return 1;
  }
  let n = 0;
  for (const item of data) n += flatten(item, out, limit);
  return n;
}

function cell(value: unknown): Html {
  if (typeof value === 'string') return html`<td class="text">${cut(value, MAX_TEXT)}</td>`;
  if (typeof value === 'number' || typeof value === 'boolean') return html`<td class="num">${String(value)}</td>`;
  if (value === null) return html`<td class="muted">null</td>`;
  return html`<td class="text mono">${cut(JSON.stringify(value) ?? String(value), MAX_TEXT)}</td>`;
}

function matrix(
  values: unknown[],
  offset: number,
  rows: number,
  cols: number,
  rowLabel: (r: number) => string,
  colLabel: (c: number) => string,
  caption: Html | string,
): Html {
  const shownRows = Math.min(rows, Math.ceil((values.length - offset) / cols));
  const body: Html[] = [];
  for (let r = 0; r < shownRows; r++) {
    const cells: Html[] = [];
    for (let c = 0; c < cols; c++) {
      const i = offset + r * cols + c;
      cells.push(i < values.length ? cell(values[i]) : html`<td></td>`);
    }
    body.push(html`<tr><th scope="row" class="index">${rowLabel(r)}</th>${cells}</tr>`);
  }
  const head = Array.from({ length: cols }, (_, c) => html`<th scope="col" class="num">${colLabel(c)}</th>`);
  return html`<table><caption>${caption}</caption><thead><tr><th></th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** The shape as whole numbers, or null when it is not one. */
function dims(shape: unknown): number[] | null {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return null;
  return shape as number[];
}

/** One tensor: its name, datatype and shape, its data as a table that follows the shape, and its parameters. */
export function tensorTable(t: LoggedTensor): Html {
  const values: unknown[] = [];
  const total = flatten(t.data, values, MAX_CELLS);
  const shape = dims(t.shape);
  const declared = shape ? shape.reduce((a, b) => a * b, 1) : null;
  const title = html`<code>${cut(String(t.name ?? '(no name)'), 200)}</code> <span class="muted">${cut(String(t.datatype ?? ''), 40)} [${Array.isArray(t.shape) ? t.shape.map((d) => cut(String(d), 20)).join(', ') : ''}]</span>`;
  const tables: Html[] = [];
  let note: string | null =
    total > MAX_CELLS
      ? `The first ${integer(MAX_CELLS)} of ${integer(total)} elements are drawn; all of them are in the JSON below.`
      : null;
  if (shape && declared === total && shape.length >= 2 && shape.at(-1)! <= MAX_COLUMNS) {
    const cols = shape.at(-1)!;
    const rows = shape.at(-2)!;
    const lead = shape.slice(0, -2);
    const per = rows * cols;
    const blocks =
      per === 0
        ? 0
        : Math.min(
            Math.ceil(values.length / per),
            lead.reduce((a, b) => a * b, 1),
          );
    for (let b = 0; b < blocks && cols > 0; b++) {
      let rest = b;
      const index = lead.map((_, k) => {
        const size = lead.slice(k + 1).reduce((a, x) => a * x, 1);
        const at = Math.floor(rest / size);
        rest %= size;
        return at;
      });
      const caption = lead.length ? `[${[...index, ':', ':'].join(', ')}]` : '';
      tables.push(
        matrix(
          values,
          b * per,
          rows,
          cols,
          (r) => String(r),
          (c) => String(c),
          caption,
        ),
      );
    }
  } else {
    if (shape && declared === total && shape.length >= 2)
      note = `Rows of ${shape.at(-1)} elements are too wide to draw: shown row-major in rows of ${VECTOR_ROW}.`;
    else if (shape && declared !== total)
      note = `The shape declares ${integer(declared ?? 0)} elements; the data holds ${integer(total)}. Shown as a flat list.`;
    else if (!shape && t.shape !== undefined) note = 'The shape is not a list of whole numbers. The data is shown as a flat list.';
    const rows = Math.ceil(values.length / VECTOR_ROW);
    const cols = Math.min(VECTOR_ROW, values.length);
    if (values.length)
      tables.push(
        matrix(
          values,
          0,
          rows,
          cols,
          (r) => String(r * VECTOR_ROW),
          (c) => `+${c}`,
          '',
        ),
      );
  }
  return html`<div class="tensor">
<h4>${title}</h4>
${note ? html`<p class="hint">${note}</p>` : ''}
${tables.length ? html`<div class="table-wrap">${tables}</div>` : html`<p class="muted">No data.</p>`}
${t.parameters !== undefined && t.parameters !== null ? html`<p class="hint">Parameters: <code>${cut(JSON.stringify(t.parameters) ?? '', 2000)}</code></p>` : ''}
</div>`;
}
