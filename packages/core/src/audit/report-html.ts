import { contentSecurityPolicy, cut, Html, html, integer } from './html';
import { factTable } from './html-table';
import type { EvidenceReport } from './report';
import { REPORT_CSS } from './report-css';
import {
  aboutSection,
  exportSection,
  loggedSection,
  oversightSection,
  retentionSection,
  verdict,
  verificationSection,
} from './report-sections';
import { completenessSection, completenessVerdict, identificationsSection } from './report-completeness';

/** A section of the evidence report: its anchor, its heading, and how it renders (null: left out). */
export interface ReportSection {
  id: string;
  title: string;
  render(report: EvidenceReport): Html | null;
}

/** The sections, in the order of the document and its table of contents. A new section is one entry here. */
export const REPORT_SECTIONS: readonly ReportSection[] = [
  { id: 'logged', title: 'What was logged', render: loggedSection },
  { id: 'completeness', title: 'Completeness per writer', render: completenessSection },
  { id: 'identifications', title: 'Identifications (Art. 12(3), 14(5))', render: identificationsSection },
  { id: 'retention', title: 'Retention and legal holds', render: retentionSection },
  { id: 'oversight', title: 'Oversight activity', render: oversightSection },
  { id: 'verification', title: 'Verification', render: verificationSection },
  { id: 'export', title: 'Export', render: exportSection },
  { id: 'about', title: 'About this report', render: aboutSection },
];

function summary(r: EvidenceReport): Html {
  const v = r.verification;
  return factTable('Summary', [
    ['Log', `${r.source.schema}.${r.source.table} in database ${cut(r.source.database)}`],
    ['Period (UTC; the end not included)', `${r.period.since} to ${r.period.until}`],
    ['Inferences in the period', integer(r.logged.totals.inferences)],
    [
      'Completeness in the period',
      r.completeness.complete
        ? 'complete'
        : `INCOMPLETE (${integer(r.completeness.dropped)} records stated lost, ${integer(r.completeness.silent)} writers silent, ${integer(r.completeness.unstated)} not stating)`,
    ],
    ['Oversight events in the period', integer(r.oversight.events)],
    ['Legal hold now', r.retention.hold.now.active ? 'ON' : 'off'],
    [
      'Verification of the whole log',
      v.ok
        ? 'OK'
        : `FAILED (${v.problems.length}${v.more_problems ? '+' : ''} problem${v.problems.length === 1 && !v.more_problems ? '' : 's'})`,
    ],
    ['Export manifest SHA-256', r.export ? html`<code class="hash">${r.export.manifest_sha256}</code>` : 'no export made'],
    ['Report taken at (UTC)', r.generated_at],
    ['inferlog version', r.inferlog_version],
  ]);
}

/**
 * The evidence report as one self-contained HTML document: no script, no external resource (its
 * Content-Security-Policy forbids both), one inline style sheet, printable on A4 with each section on
 * its own page. Every value from the log is escaped as text.
 */
export function renderEvidenceReport(report: EvidenceReport): string {
  const sections = REPORT_SECTIONS.flatMap((s) => {
    const body = s.render(report);
    return body ? [{ ...s, body }] : [];
  });
  const title = `Evidence report: ${report.source.schema}.${report.source.table}, ${report.period.since} to ${report.period.until}`;
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(REPORT_CSS)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="inferlog ${report.inferlog_version}">
<title>${title}</title>
<style>${new Html(REPORT_CSS)}</style>
</head>
<body>
<header>
<h1>Inference log evidence report</h1>
<p>${report.source.schema}.${report.source.table}, from ${report.period.since} to ${report.period.until} (UTC). Records kept for the EU AI Act (Art. 12, 19, 26, 72) by inferlog.</p>
${verdict(report)}
${completenessVerdict(report) ?? ''}
${summary(report)}
<nav aria-labelledby="contents"><h2 id="contents">Contents</h2>
<ol>
${sections.map((s) => html`<li><a href="#${s.id}">${s.title}</a></li>\n`)}</ol>
</nav>
</header>
<main>
${sections.map(
  (s, i) => html`<section id="${s.id}" aria-labelledby="${s.id}-title">
<h2 id="${s.id}-title">${i + 1}. ${s.title}</h2>
${s.body}
</section>
`,
)}</main>
</body>
</html>
`.value;
}
