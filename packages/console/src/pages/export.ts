import { html, type Html } from '@inferlog/core/audit';
import type { ConsoleContext } from '../context';
import { FILTER_FIELDS } from '../filters';
import { describedBy, textField, underField } from '../render/fields';
import type { Page } from '../layout';
import type { RawResponse } from '../response';
import { exportArchive } from './export-archive';
import { EXPORT_FIELDS, exportReady, parseExportInput, type ExportField, type ExportInput } from './export-input';

// Still true once the download is done (the page does not change under a download).
const BUSY = 'Export started: the archive downloads as soon as it is written. On a large range that takes minutes.';

const REQUIRED = new Set<ExportField>(['since', 'until']);

const HINTS: Partial<Record<ExportField, string>> = { since: 'Included. UTC unless given', until: 'Not included' };

function field(input: ExportInput, name: (typeof EXPORT_FIELDS)[number]): Html {
  const [, label, placeholder] = FILTER_FIELDS.find(([n]) => n === name)!;
  const required = REQUIRED.has(name);
  return textField({
    name,
    label: required ? label : `${label} (optional)`,
    value: input.kept[name],
    placeholder,
    problem: input.problems[name],
    hint: HINTS[name],
    required,
  });
}

function exportFormHtml(ctx: ConsoleContext, input: ExportInput): Html {
  return html`<form class="action export-form" method="post" action="${ctx.href('/export')}" data-busy="${BUSY}" aria-label="Export a time range">
<input type="hidden" name="csrf" value="${ctx.csrf}">
<div class="fields">
${EXPORT_FIELDS.map((name) => field(input, name))}
<label>Format<select name="format"${describedBy('format', input.problems.format)}>
${['jsonl', 'csv'].map((f) => html`<option value="${f}"${input.format === f ? html` selected` : ''}>${f === 'jsonl' ? 'JSON lines (jsonl)' : 'CSV'}</option>`)}
</select>${underField('format', input.problems.format)}</label>
</div>
<div class="actions"><button type="submit">Export</button><p class="busy hint" role="status" aria-live="polite"></p></div>
</form>`;
}

function page(ctx: ConsoleContext, input: ExportInput, message: Html | string = '', status = 200): Page {
  return {
    kind: 'page',
    status,
    title: 'Export',
    section: 'export',
    body: html`<h1>Export</h1>
<p class="export-intro">The records that started in a time range (since included, until not; UTC unless the time says otherwise), with the
oversight events about them, as evidence: one <code>.tar</code> archive holding the records file, its <code>.events.jsonl</code> and its
<code>.manifest.json</code>. Extract it and check it without the database:</p>
<pre class="value export-command">inferlog verify --bundle inferlog-&lt;since&gt;-&lt;until&gt;/inferlog-&lt;since&gt;-&lt;until&gt;.jsonl.manifest.json</pre>
${message}
${exportFormHtml(ctx, input)}
<p class="hint">An export reads every record in the range in one snapshot: on a large range it takes minutes. Note the manifest's SHA-256,
which <code>verify --bundle</code> prints, when you hand the archive over.</p>`,
  };
}

/** The export form, with the last day as its range. */
export async function exportForm(ctx: ConsoleContext): Promise<Page> {
  return page(ctx, parseExportInput(null));
}

/** Writes the export into a temporary directory and answers with it as a tar download; a problem before that shows the form again. */
export async function exportRun(ctx: ConsoleContext): Promise<Page | RawResponse> {
  const input = parseExportInput(ctx.form ?? new URLSearchParams());
  if (!exportReady(input))
    return page(
      ctx,
      input,
      html`<div class="error-box" role="alert">A field could not be read: see the field marked below. Nothing was exported.</div>`,
    );
  // The client going away stops the export; the export removes what it had written.
  const abort = new AbortController();
  const gone = () => abort.abort(new Error('the client went away'));
  const socket = ctx.req.socket;
  // The export holds its place until the download has ended, however it ends.
  const release = ctx.longWork.hold();
  socket.once('close', gone);
  try {
    const archive = await exportArchive({
      db: ctx.db,
      schema: ctx.schema,
      table: ctx.table,
      format: input.format,
      filter: input.filter,
      signal: abort.signal,
    });
    archive.stream.once('close', release);
    return {
      kind: 'raw',
      status: 200,
      headers: {
        'content-type': 'application/x-tar',
        'content-disposition': `attachment; filename="${archive.filename}"`,
        'x-inferlog-rows': String(archive.rows),
      },
      body: archive.stream,
    };
  } catch (err) {
    release();
    if (abort.signal.aborted) throw err;
    const message = (err as Error).message.replace(/^inferlog: /, '');
    return page(
      ctx,
      input,
      html`<div class="error-box" role="alert">The export failed: ${message}. Nothing was downloaded; try again, or a narrower range.</div>`,
      500,
    );
  } finally {
    socket.off('close', gone);
  }
}
