import { html, type Html } from '@inferlog/core/audit';
import type { ConsoleContext } from './context';

/** The console's sections, in the order the navigation lists them. */
export const SECTIONS = [
  ['records', 'Records', '/records'],
  ['stats', 'Statistics', '/stats'],
  ['monitor', 'Monitoring', '/monitor'],
  ['verify', 'Verify', '/verify'],
  ['export', 'Export', '/export'],
] as const;

export type Section = (typeof SECTIONS)[number][0];

/** An HTML page in the console's layout. */
export interface Page {
  kind: 'page';
  /** 200 unless set. */
  status?: number;
  /** The page's own title (the document title adds the console's). */
  title: string;
  /** The section the navigation marks as current. */
  section: Section | null;
  body: Html;
  /** Loads uPlot and the chart script. */
  charts?: boolean;
}

/** A whole document: navigation, the page, and a footer saying what is read and as whom. */
export function renderPage(
  ctx: Pick<ConsoleContext, 'href' | 'options' | 'schema' | 'table'> & { reader: ConsoleContext['reader'] | null },
  page: Page,
): string {
  const asset = (name: string) => ctx.href(`/assets/${name}`);
  const r = ctx.reader;
  const reading = !r
    ? html`not read yet`
    : html`${r.readOnly ? 'read-only transactions' : 'the console only reads (the server ignored read-only transactions)'}, ${
        r.role ? html`as role <code>${r.role}</code>` : html`as the connecting user (${r.roleNote ?? ''})`
      }`;
  return `<!doctype html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${page.title} · ${ctx.options.title} audit console</title>
<link rel="icon" href="${asset('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${asset('console.css')}">
${page.charts ? html`<link rel="stylesheet" href="${asset('uPlot.min.css')}">` : ''}
<script src="${asset('console.js')}" defer></script>
${page.charts ? html`<script src="${asset('uPlot.iife.min.js')}" defer></script>` : ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="${ctx.href('/records')}">${ctx.options.title} <span>audit console</span></a>
<nav aria-label="Sections"><ul>
${SECTIONS.map(([id, label, path]) => html`<li><a href="${ctx.href(path)}"${id === page.section ? html` aria-current="page"` : ''}>${label}</a></li>`)}
</ul></nav>
</header>
<main id="main" tabindex="-1">
${page.body}
</main>
<footer>Log <code>${ctx.schema}.${ctx.table}</code>, ${reading}. Every value shown was logged from requests: it is shown as text.</footer>
</body>
</html>`}\n`;
}
