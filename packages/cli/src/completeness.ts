import type { CompletenessReport, LostRecord, WriterCompleteness } from '@inferlog/core/audit';
import { count, table } from './output';

const LOST_LISTED = 20;

const writerName = (w: WriterCompleteness) => `${w.chain_id} (${w.host} pid ${w.pid}${w.service ? `, ${w.service}` : ''})`;

const reasons = (w: WriterCompleteness) =>
  Object.entries(w.dropped_by_reason)
    .map(([reason, n]) => `${reason} ${count(n ?? 0)}`)
    .join(', ');

const lostLine = (l: LostRecord) => `    ${l.at}  request ${l.request_id}  (record ${l.id})  ${l.reason}`;

const STATE: Record<WriterCompleteness['state'], string> = {
  closed: 'closed',
  exited: 'exited',
  stating: 'stating',
  silent: 'SILENT',
  unstated: 'UNSTATED',
};

/** What the writers' completeness statements say, as text: a table per writer, then every loss and silence. */
export function renderCompleteness(report: CompletenessReport, scope: string): string[] {
  if (report.writers.length === 0) return ['', `Completeness (${scope}): no writer registered`];
  const lines = [
    '',
    `Completeness (${scope}), as each writer stated it:`,
    '',
    table(report.writers, [
      { header: 'writer chain', value: (w) => w.chain_id },
      { header: 'host', value: (w) => `${w.host}:${w.pid}` },
      { header: 'state', value: (w) => STATE[w.state] },
      { header: 'stated', value: (w) => (w.from ? `${w.from} .. ${w.to}` : '-'), max: 60 },
      { header: 'statements', value: (w) => count(w.statements), right: true },
      { header: 'captured', value: (w) => count(w.captured), right: true },
      { header: 'written', value: (w) => count(w.written), right: true },
      { header: 'spilled', value: (w) => count(w.spilled), right: true },
      { header: 'replayed', value: (w) => count(w.replayed), right: true },
      { header: 'dropped', value: (w) => count(w.dropped), right: true },
    ]),
  ];
  for (const w of report.writers) {
    if (w.dropped > 0) {
      lines.push('', `LOST: writer ${writerName(w)} dropped ${count(w.dropped)} record${w.dropped === 1 ? '' : 's'} (${reasons(w)}):`);
      lines.push(...w.lost.slice(0, LOST_LISTED).map(lostLine));
      if (w.dropped > Math.min(w.lost.length, LOST_LISTED))
        lines.push(`    … ${count(w.dropped - Math.min(w.lost.length, LOST_LISTED))} more (--json lists up to 100 per writer)`);
    }
    if (w.unreadable_journal_bytes > 0)
      lines.push(
        '',
        `LOST: writer ${writerName(w)} could not read back ${count(w.unreadable_journal_bytes)} bytes of journal entries (torn or damaged; kept in .damaged files where possible): records of unknown number`,
      );
    if (w.state === 'silent')
      lines.push(
        '',
        `SILENT: writer ${writerName(w)} stopped stating at ${w.silent_since} without a final statement (killed, crashed or cut off from the database): records it captured after ${w.silent_since} may be lost. ${w.last_record_at ? `Its last stored record ended at ${w.last_record_at}; ` : ''}its next statement was due at ${w.statement_due}. What its journals held is replayed by the next writer on the same spill directory and stated there.`,
      );
    if (w.state === 'unstated')
      lines.push(
        '',
        `UNSTATED: writer ${writerName(w)} predates completeness statements: whether it lost records is not known from the log`,
      );
  }
  lines.push(
    '',
    report.complete
      ? 'COMPLETE: every writer stated what happened to every record it captured, lost none, and either closed or is still stating'
      : `INCOMPLETE: ${[
          report.dropped ? `${count(report.dropped)} record${report.dropped === 1 ? '' : 's'} stated lost` : '',
          report.silent ? `${report.silent} writer${report.silent === 1 ? '' : 's'} silent` : '',
          report.unstated ? `${report.unstated} writer${report.unstated === 1 ? '' : 's'} not stating` : '',
          report.unreadable_journal_bytes ? `${count(report.unreadable_journal_bytes)} journal bytes unreadable` : '',
        ]
          .filter(Boolean)
          .join('; ')}`,
  );
  return lines;
}
