// Small pieces of markup for logged values. Every value is text (the `html` tag escapes it); a value a
// client chose is cut so that one huge field cannot make a page unusable.
import { cut, decimal, escapeText, Html, html, type RecordSummary } from '@inferlog/core/audit';

/** An ISO timestamp as `YYYY-MM-DD HH:MM:SS.mmm` (UTC), the whole value in a tooltip. */
export function when(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">–</span>`;
  const shown = iso.replace('T', ' ').replace(/Z$/, '');
  return html`<time datetime="${iso}" title="${iso} (UTC)">${shown}</time>`;
}

/** A status code as a badge coloured by class; "none" when no response was sent. */
export function statusBadge(status: number | null, aborted = false): Html {
  if (status === null) return html`<span class="badge warn">${aborted ? 'aborted' : 'none'}</span>`;
  const kind = status >= 500 ? 'bad' : status >= 400 ? 'warn' : 'ok';
  return html`<span class="badge ${kind}">${status}</span>`;
}

/** Text for a `<pre>`: its line breaks kept, every other invisible character shown as an escape (audit/html.ts). */
export function preText(text: string): Html {
  return new Html(text.split(/\r?\n/).map(escapeText).join('\n'));
}

/** Pretty JSON of a value, as text in a block. */
export function jsonBlock(value: unknown, max = 20_000): Html {
  const text = value === undefined ? 'undefined' : JSON.stringify(value, null, 2);
  return html`<pre class="value">${preText(cut(text ?? 'null', max))}</pre>`;
}

/** Milliseconds with one decimal. */
export const ms = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : `${decimal(n, 1)} ms`);

/** Badges for what a record carries besides its data: an error, schema errors, redactions, truncation, an abort. */
export function recordNotes(r: RecordSummary): Html {
  const notes: Html[] = [];
  if (r.error_present) notes.push(html`<span class="badge bad">error</span>`);
  if (r.schema_error_count) notes.push(html`<span class="badge warn">schema errors ${r.schema_error_count}</span>`);
  if (r.redaction_count) notes.push(html`<span class="badge info">redacted ${r.redaction_count}</span>`);
  if (r.truncated_count) notes.push(html`<span class="badge info">truncated</span>`);
  if (r.aborted) notes.push(html`<span class="badge warn">aborted</span>`);
  return html`${notes.map((n, i) => (i ? html` ${n}` : n))}`;
}
