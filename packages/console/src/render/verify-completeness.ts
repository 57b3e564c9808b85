// What the writers' completeness statements say, as the verify page shows it: a table per writer, every
// loss (which records, why) and every writer that fell silent. The same facts as `inferlog verify` prints.
// Host and service are what a writer registered: text from the log like any other.
import { cut, html, integer, type CompletenessReport, type Html, type LostRecord, type WriterCompleteness } from '@inferlog/core/audit';

/** Lost records listed per writer at most (the report holds up to 100 of each writer's). */
const LOST_LISTED = 20;
/** Writers listed in the table, and notes about them, at most. */
const WRITERS_SHOWN = 500;
const NOTES_SHOWN = 200;

const plural = (n: number, one: string, many = `${one}s`) => `${integer(n)} ${n === 1 ? one : many}`;

const STATE: Record<WriterCompleteness['state'], [string, 'ok' | 'warn' | 'bad' | 'info']> = {
  closed: ['closed', 'ok'],
  exited: ['exited', 'ok'],
  stating: ['stating', 'ok'],
  silent: ['SILENT', 'bad'],
  unstated: ['UNSTATED', 'warn'],
};

function writerName(w: WriterCompleteness): Html {
  return html`<code>${w.chain_id}</code> (${cut(w.host, 120)} pid ${w.pid}${w.service ? `, ${cut(w.service, 120)}` : ''})`;
}

const reasons = (w: WriterCompleteness) =>
  Object.entries(w.dropped_by_reason)
    .map(([reason, n]) => `${reason} ${integer(n ?? 0)}`)
    .join(', ');

function lostItem(l: LostRecord): Html {
  return html`<li><time datetime="${l.at}">${l.at}</time> request <code>${cut(l.request_id, 200)}</code> (record <code>${l.id}</code>): ${l.reason}</li>`;
}

/** What the page says about one writer beyond its row: its losses, unreadable journal bytes, its silence. */
function writerNotes(w: WriterCompleteness): Html[] {
  const notes: Html[] = [];
  if (w.dropped > 0) {
    const listed = Math.min(w.lost.length, LOST_LISTED);
    notes.push(html`<li class="verify-loss"><strong>Lost:</strong> writer ${writerName(w)} dropped ${plural(w.dropped, 'record')} (${reasons(w)}):
<ul>${w.lost.slice(0, LOST_LISTED).map(lostItem)}</ul>
${w.dropped > listed ? html`<p class="hint">… and ${integer(w.dropped - listed)} more (<code>inferlog verify --json</code> lists up to 100 per writer).</p>` : ''}</li>`);
  }
  if (w.unreadable_journal_bytes > 0)
    notes.push(
      html`<li class="verify-loss"><strong>Lost:</strong> writer ${writerName(w)} could not read back ${integer(w.unreadable_journal_bytes)} bytes of journal entries (torn or damaged; kept in .damaged files where possible): records of unknown number.</li>`,
    );
  if (w.state === 'silent')
    notes.push(
      html`<li class="verify-loss"><strong>Silent:</strong> writer ${writerName(w)} stopped stating at ${w.silent_since ?? 'its start'} without a final statement (killed, crashed or cut off from the database): records it captured after ${w.silent_since ?? 'its start'} may be lost. ${w.last_record_at ? `Its last stored record ended at ${w.last_record_at}; ` : ''}its next statement was due at ${w.statement_due ?? 'unknown'}. What its journals held is replayed by the next writer on the same spill directory and stated there.</li>`,
    );
  if (w.state === 'unstated')
    notes.push(
      html`<li class="verify-loss"><strong>Unstated:</strong> writer ${writerName(w)} predates completeness statements: whether it lost records is not known from the log.</li>`,
    );
  return notes;
}

function summary(report: CompletenessReport): Html {
  if (report.complete)
    return html`<p class="verify-complete ok"><strong>Complete:</strong> every writer stated what happened to every record it captured, lost none, and either closed or is still stating.</p>`;
  const parts = [
    report.dropped ? `${plural(report.dropped, 'record')} stated lost` : '',
    report.silent ? `${plural(report.silent, 'writer')} silent` : '',
    report.unstated ? `${plural(report.unstated, 'writer')} not stating` : '',
    report.unreadable_journal_bytes ? `${integer(report.unreadable_journal_bytes)} journal bytes unreadable` : '',
  ].filter(Boolean);
  return html`<p class="verify-complete warn"><strong>Incomplete:</strong> ${parts.join('; ')}. Losses are not tampering: they leave the verdict above alone.</p>`;
}

/** The completeness report of a verification, for `scope` (the whole log, or a period). */
export function completenessSection(report: CompletenessReport, scope: string): Html {
  const head = html`<h2 id="completeness">Completeness (${scope}), as each writer stated it</h2>`;
  if (!report.writers.length) return html`${head}<p class="muted">No writer registered.</p>`;
  const writers = report.writers.slice(0, WRITERS_SHOWN);
  const notes = report.writers.flatMap(writerNotes);
  return html`${head}
${summary(report)}
${report.writers.length > writers.length ? html`<p class="hint">The first ${integer(writers.length)} of ${integer(report.writers.length)} writers.</p>` : ''}
<div class="table-wrap"><table class="verify-writers">
<thead><tr><th scope="col">Writer chain</th><th scope="col">Host and pid</th><th scope="col">Service</th><th scope="col">State</th><th scope="col">Stated period</th>
<th scope="col" class="num">Statements</th><th scope="col" class="num">Captured</th><th scope="col" class="num">Written</th><th scope="col" class="num">Spilled</th><th scope="col" class="num">Replayed</th><th scope="col" class="num">Dropped</th></tr></thead>
<tbody>
${writers.map(
  (w) => html`<tr>
<td class="mono">${w.chain_id}</td>
<td class="text host" title="${cut(w.host, 500)}">${cut(w.host, 120)}<span class="muted">:${w.pid}</span></td>
${w.service === null ? html`<td class="text"><span class="muted">–</span></td>` : html`<td class="text" title="${cut(w.service, 500)}">${cut(w.service, 120)}</td>`}
<td><span class="badge ${STATE[w.state][1]}">${STATE[w.state][0]}</span></td>
<td class="nowrap">${w.from ? html`${w.from}<br>${w.to}` : html`<span class="muted">–</span>`}</td>
<td class="num">${integer(w.statements)}</td>
<td class="num">${integer(w.captured)}</td>
<td class="num">${integer(w.written)}</td>
<td class="num">${integer(w.spilled)}</td>
<td class="num">${integer(w.replayed)}</td>
<td class="num">${w.dropped ? html`<strong>${integer(w.dropped)}</strong>` : '0'}</td>
</tr>`,
)}
</tbody></table></div>
${notes.length ? html`<ul class="verify-losses">${notes.slice(0, NOTES_SHOWN)}</ul>` : ''}
${notes.length > NOTES_SHOWN ? html`<p class="hint">… and ${integer(notes.length - NOTES_SHOWN)} more losses and silences (<code>inferlog verify</code> prints them all).</p>` : ''}`;
}
