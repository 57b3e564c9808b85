/**
 * The evidence report's style sheet: on screen a readable column, on paper A4 with each section on a
 * page of its own. The document's Content-Security-Policy allows this sheet by its SHA-256 and nothing
 * else, so no inline `style` attribute may be used.
 */
export const REPORT_CSS = `
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: #111; background: #fff;
  max-width: 62rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .75rem; padding-bottom: .25rem; border-bottom: 2px solid #333; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
p { margin: .5rem 0; }
code, .hash { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88em; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
td.wrap { overflow-wrap: anywhere; min-width: 14ch; }
table.facts td { overflow-wrap: anywhere; }
thead th { background: #eee; }
table.facts th { width: 40%; font-weight: 500; background: #f6f6f6; }
.num { text-align: right; }
td.num, td.time { white-space: nowrap; }
.none { font-style: italic; color: #555; }
.note, .empty { color: #333; font-size: .92em; }
.verdict { border: 3px solid; padding: .75rem 1rem; margin: 1rem 0; font-weight: 600; }
.verdict.ok { border-color: #1a7f37; background: #eaf7ee; }
.verdict.failed { border-color: #b00020; background: #fdecee; color: #6b0012; font-size: 1.1rem; }
.verdict.incomplete { border-color: #9a6700; background: #fff8e1; color: #4d3300; }
.sub { display: block; color: #444; font-size: .9em; }
.problems li { margin: .35rem 0; }
nav ol { padding-left: 1.5rem; }
nav a, a { color: #0b4f9c; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  section { break-before: page; }
  h2, h3, caption { break-after: avoid; }
  tr, .verdict { break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
  .verdict.ok, .verdict.failed, .verdict.incomplete, thead th, table.facts th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
