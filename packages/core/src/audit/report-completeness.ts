import type { WriterCompleteness } from './completeness';
import { cut, html, integer, type Html } from './html';
import { dataTable, factTable } from './html-table';
import type { EvidenceReport } from './report';
import { count, missing, named, time } from './report-sections';

const STATE: Record<WriterCompleteness['state'], string> = {
  closed: 'closed',
  exited: 'exited (no close)',
  stating: 'running',
  silent: 'SILENT',
  unstated: 'NOT STATING',
};

const writer = (w: WriterCompleteness) => html`${w.chain_id} (${cut(w.host)}, pid ${integer(w.pid)})`;

/** The completeness verdict for the top of the document, when the period is incomplete. */
export function completenessVerdict(r: EvidenceReport): Html | null {
  const c = r.completeness;
  if (c.complete) return null;
  const parts = [
    c.dropped ? `${integer(c.dropped)} records stated lost` : '',
    c.silent ? `${integer(c.silent)} writers fell silent (records they captured after their last statement may be lost)` : '',
    c.unstated ? `${integer(c.unstated)} writers do not state their completeness` : '',
    c.unreadable_journal_bytes
      ? `${integer(c.unreadable_journal_bytes)} journal bytes could not be read back (records of unknown number)`
      : '',
  ].filter(Boolean);
  return html`<p class="verdict incomplete">INCOMPLETE: ${parts.join('; ')}. See section Completeness per writer.</p>`;
}

/** One line per loss or silence, for the auditor to follow up. */
function findings(r: EvidenceReport): Html[] {
  const out: Html[] = [];
  for (const w of r.completeness.writers) {
    if (w.dropped > 0) {
      const reasons = Object.entries(w.dropped_by_reason)
        .map(([reason, n]) => `${reason}: ${integer(n ?? 0)}`)
        .join(', ');
      out.push(html`<li><strong>Lost:</strong> writer ${writer(w)} dropped ${integer(w.dropped)} records (${reasons}).</li>`);
    }
    if (w.unreadable_journal_bytes > 0)
      out.push(
        html`<li><strong>Lost:</strong> writer ${writer(w)} could not read back ${integer(w.unreadable_journal_bytes)} bytes of journal entries (records of unknown number).</li>`,
      );
    if (w.state === 'silent')
      out.push(
        html`<li><strong>Silent:</strong> writer ${writer(w)} stopped stating at ${time(w.silent_since)} without a final statement (killed, crashed or cut off from the database): records it captured after that may be lost. Its last stored record ended at ${time(w.last_record_at)}; its next statement was due at ${time(w.statement_due)}.</li>`,
      );
    if (w.state === 'unstated')
      out.push(
        html`<li><strong>Not stating:</strong> writer ${writer(w)} predates completeness statements: whether it lost records is not known.</li>`,
      );
  }
  return out;
}

/** What the writers stated about the period: per writer what it stored and lost, and which fell silent. */
export function completenessSection(r: EvidenceReport): Html {
  const c = r.completeness;
  const lost = r.completeness.writers.flatMap((w) => w.lost.map((l) => ({ ...l, chain_id: w.chain_id })));
  const listed = findings(r);
  return html`<p>Every writer (each process that logs) stores a signed completeness statement every interval and when it closes: what it captured, wrote, spilled, replayed and dropped since the last one, naming each dropped record and why. A writer that stops stating without a final statement was killed or crashed; records it captured after its last statement may be lost. Statements overlapping the period are counted here.</p>
${factTable('Completeness in the period', [
  ['Verdict', c.complete ? 'COMPLETE: every writer stated every record it captured, lost none, and closed or is running' : 'INCOMPLETE'],
  ['Writers', integer(c.writers.length)],
  ['Records stated lost', integer(c.dropped)],
  ['Writers fallen silent', integer(c.silent)],
  ['Writers not stating (older than statements)', integer(c.unstated)],
])}
${listed.length ? html`<ul class="findings">\n${listed.map((l) => html`${l}\n`)}</ul>` : ''}
${dataTable(
  'Per writer',
  c.writers,
  [
    {
      header: 'writer (record chain; host, pid)',
      cell: (w) => html`${w.chain_id}<span class="sub">${cut(w.host)}, pid ${integer(w.pid)}</span>`,
      kind: 'text',
    },
    { header: 'state', cell: (w) => STATE[w.state] },
    { header: 'period stated (UTC)', cell: (w) => html`${time(w.from)}<span class="sub">to ${time(w.to)}</span>` },
    count('statements', (w) => w.statements),
    count('captured', (w) => w.captured),
    count('written', (w) => w.written),
    count('spilled', (w) => w.spilled),
    count('replayed', (w) => w.replayed),
    count('dropped', (w) => w.dropped),
  ],
  { empty: 'no writer stated anything about the period' },
)}
${dataTable(
  'Records stated lost',
  lost,
  [
    { header: 'request arrived (UTC)', cell: (l) => l.at, kind: 'time' },
    { header: 'request id', cell: (l) => cut(l.request_id), kind: 'text' },
    { header: 'record id', cell: (l) => l.id, kind: 'text' },
    { header: 'why', cell: (l) => l.reason },
    { header: 'writer chain', cell: (l) => l.chain_id, kind: 'text' },
  ],
  { empty: 'none', limit: 200, more: "up to 100 per writer are in the report's JSON; inferlog verify names them too" },
)}`;
}

/** Remote biometric identifications of the period (Art. 12(3), 14(5)); left out when there are none. */
export function identificationsSection(r: EvidenceReport): Html | null {
  const i = r.identifications;
  if (!i) return null;
  return html`<p>Inferences annotated as identifications (<code>annotations.identification</code>): each must name the reference database it was checked against (Art. 12(3)(b)), and each positive result (<code>match: true</code>) needs at least two distinct verifiers among its <code>human_review</code> and <code>second_verifier</code> events (Art. 12(3)(d), 14(5)).</p>
${factTable('Identifications in the period', [
  ['Identifications', integer(i.total)],
  ['Positive results (matches)', integer(i.matches)],
  ['Matches with fewer than two distinct verifiers', integer(i.under_verified)],
  ['Without a reference database', integer(i.without_reference_database)],
  ['Match not true or false', integer(i.match_not_boolean)],
  ['Failing the check', i.failing ? html`<strong>${integer(i.failing)}</strong>` : '0'],
])}
${dataTable(
  'The first that fail the check',
  i.first_failing,
  [
    { header: 'started (UTC)', cell: (f) => f.started_at, kind: 'time' },
    { header: 'request id', cell: (f) => cut(f.request_id), kind: 'text' },
    { header: 'reference database', cell: (f) => named(f.reference_database, 'none'), kind: 'text' },
    { header: 'match', cell: (f) => (f.match === null ? missing('not a boolean') : String(f.match)) },
    { header: 'verifiers', cell: (f) => (f.verifiers.length ? cut(f.verifiers.join(', ')) : missing('none')), kind: 'text' },
    { header: 'problems', cell: (f) => f.problems.join(', '), kind: 'text' },
  ],
  { empty: 'none', beyond: i.failing - i.first_failing.length, more: 'inferlog query --failing-identifications lists them all' },
)}`;
}
