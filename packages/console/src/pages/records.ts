import { cut, html, newestRecords, type Html, type RecordSummary } from '@inferlog/core/audit';
import type { ConsoleContext } from '../context';
import { filterForm, parseFilter } from '../filters';
import type { Page } from '../layout';
import { ms, recordNotes, statusBadge, when } from '../render/values';

/** A cell of client text on one line: cut, and the longer value in its tooltip. */
function textCell(value: string | null, shown: number, className = 'text'): Html {
  if (value === null) return html`<td class="${className}"><span class="muted">–</span></td>`;
  return html`<td class="${className}" title="${cut(value, 300)}">${cut(value, shown)}</td>`;
}

function row(ctx: ConsoleContext, r: RecordSummary): Html {
  const link = ctx.href(`/inferences/${r.id}`);
  return html`<tr>
<td class="time"><a href="${link}">${when(r.started_at)}</a></td>
${textCell(r.model_name, 60)}
${textCell(r.model_version, 30)}
<td>${statusBadge(r.status, r.aborted)}</td>
<td class="num">${ms(r.latency_ms)}</td>
${textCell(r.protocol, 30)}
${r.route === null ? textCell(r.path, 60, 'text muted') : textCell(r.route, 60)}
${textCell(r.request_id, 40, 'text mono')}
<td class="notes">${recordNotes(r)}</td>
</tr>`;
}

/** The records, newest first, filtered, a page at a time (keyset: `before` is the last row shown). */
export async function recordsPage(ctx: ConsoleContext): Promise<Page> {
  const parsed = parseFilter(ctx.url.searchParams);
  const before = ctx.url.searchParams.get('before') ?? undefined;
  const page = await newestRecords(ctx.db, ctx.schema, ctx.table, parsed.filter, { limit: ctx.options.pageSize, before });
  const invalid = Object.keys(parsed.problems).length > 0;
  const filtered = Object.keys(parsed.kept).length > 0;
  return {
    kind: 'page',
    title: 'Records',
    section: 'records',
    body: html`<h1>Records</h1>
${filterForm(ctx.href('/records'), ctx.href('/records'), parsed)}
${invalid ? html`<div class="error-box" role="alert">A filter could not be read and is not applied: see the field marked above.</div>` : ''}
<p class="hint">Newest first${filtered ? ', filtered' : ''}${before ? html`, older than <code>${before.split('/')[0]}</code>` : ''}. ${page.rows.length} record${page.rows.length === 1 ? '' : 's'} on this page. Times are UTC.</p>
${
  page.rows.length
    ? html`<div class="table-wrap"><table class="records">
<colgroup><col class="c-time"><col class="c-model"><col class="c-version"><col class="c-status"><col class="c-latency"><col class="c-protocol"><col class="c-route"><col class="c-request"><col class="c-notes"></colgroup>
<thead><tr><th scope="col">Started (UTC)</th><th scope="col">Model</th><th scope="col">Version</th><th scope="col">Status</th><th scope="col" class="num">Latency</th><th scope="col">Protocol</th><th scope="col">Route</th><th scope="col">Request id</th><th scope="col">Notes</th></tr></thead>
<tbody>
${page.rows.map((r) => row(ctx, r))}
</tbody></table></div>`
    : html`<p class="muted">${filtered || before ? 'No records match.' : 'The log has no records yet.'}</p>`
}
<nav class="pager" aria-label="Pages">
${before ? html`<a class="button secondary" href="${ctx.href('/records', parsed.kept)}">Newest</a>` : ''}
${page.older ? html`<a class="button" rel="next" href="${ctx.href('/records', { ...parsed.kept, before: page.older })}">Older records</a>` : ''}
</nav>`,
  };
}
