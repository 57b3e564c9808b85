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

/**
 * Whether data is laid out as the shape says: flat (no element a list) with as many elements, or nested
 * with every level as long as its dimension. Ragged data ([[1, 2, 3], [4]] for [2, 2]) has the right
 * count but not the shape, and is shown flat rather than as a matrix the client never sent.
 */
function followsShape(data: unknown, shape: number[]): boolean {
  if (!Array.isArray(data)) return false;
  if (!data.some(Array.isArray)) return data.length === shape.reduce((a, b) => a * b, 1);
  const level = (value: unknown, depth: number): boolean => {
    if (depth === shape.length) return !Array.isArray(value);
    return Array.isArray(value) && value.length === shape[depth] && value.every((v) => level(v, depth + 1));
  };
  return shape.length <= 32 && level(data, 0);
}

/** The shape as whole numbers, or null when it is not one. */
function dims(shape: unknown): number[] | null {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return null;
  return shape as number[];
}

/** What one page may still draw: a client can send thousands of tensors of thousands of values. */
export interface DrawBudget {
  tensors: number;
  cells: number;
}

/** A page draws at most 40 tensors and 20,000 values; the rest is named and left to the row's JSON. */
export const pageBudget = (): DrawBudget => ({ tensors: 40, cells: 20_000 });

/** The tensors of a list as tables while `budget` lasts, then the names of those left out. */
export function tensorTables(list: LoggedTensor[], budget: DrawBudget): Html {
  const drawn: Html[] = [];
  let i = 0;
  for (; i < list.length && budget.tensors > 0 && budget.cells > 0; i++) drawn.push(tensorTable(list[i]!, budget));
  const left = list.slice(i);
  if (!left.length) return html`${drawn}`;
  const names = left.slice(0, 20).map((t) => cut(String(t.name ?? '(no name)'), 60));
  return html`${drawn}<p class="hint">${integer(left.length)} more tensor${left.length === 1 ? ' is' : 's are'} not drawn (a page draws at most 40 tensors and 20,000 values): ${names.join(', ')}${
    left.length > names.length ? ', …' : ''
  }. All of them are in the stored row's JSON at the end of the page.</p>`;
}

/** One tensor: its name, datatype and shape, its data as a table that follows the shape, and its parameters. */
export function tensorTable(t: LoggedTensor, budget: DrawBudget = pageBudget()): Html {
  const values: unknown[] = [];
  const limit = Math.max(0, Math.min(MAX_CELLS, budget.cells));
  const total = flatten(t.data, values, limit);
  budget.tensors--;
  budget.cells -= values.length;
  const shape = dims(t.shape);
  const declared = shape ? shape.reduce((a, b) => a * b, 1) : null;
  const shapeText = Array.isArray(t.shape) ? t.shape.map((d) => cut(String(d), 20)).join(', ') : '';
  const title = html`<code>${cut(String(t.name ?? '(no name)'), 200)}</code> <span class="muted">${cut(String(t.datatype ?? ''), 40)} [${cut(shapeText, 200)}]</span>`;
  const tables: Html[] = [];
  const notes: string[] = [];
  if (total > values.length)
    notes.push(
      `The first ${integer(values.length)} of ${integer(total)} elements are drawn; all of them are in the stored row's JSON at the end of the page.`,
    );
  const regular = shape !== null && declared === total && followsShape(t.data, shape);
  if (shape && declared === total && !regular)
    notes.push('The data is nested unlike the shape says (ragged): shown as a flat list of its elements, row-major.');
  if (shape && regular && shape.length >= 2 && shape.at(-1)! <= MAX_COLUMNS) {
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
    if (regular && shape.length >= 2)
      notes.push(`Rows of ${shape.at(-1)} elements are too wide to draw: shown row-major in rows of ${VECTOR_ROW}.`);
    else if (shape && declared !== total)
      notes.push(`The shape declares ${integer(declared ?? 0)} elements; the data holds ${integer(total)}. Shown as a flat list.`);
    else if (!shape && t.shape !== undefined) notes.push('The shape is not a list of whole numbers. The data is shown as a flat list.');
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
${notes.map((n) => html`<p class="hint">${n}</p>`)}
${tables.length ? html`<div class="table-wrap">${tables}</div>` : html`<p class="muted">No data.</p>`}
${t.parameters !== undefined && t.parameters !== null ? html`<p class="hint">Parameters: <code>${cut(JSON.stringify(t.parameters) ?? '', 2000)}</code></p>` : ''}
</div>`;
}
