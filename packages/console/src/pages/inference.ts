import {
  cut,
  html,
  integer,
  isTensorList,
  showInference,
  type ChainCheck,
  type EventRow,
  type Html,
  type InferenceView,
  type RecordRow,
  type ShowResult,
} from '@inferlog/core/audit';
import type { ConsoleContext } from '../context';
import type { Page } from '../layout';
import { redirect, type RawResponse } from '../response';
import { pageBudget, tensorTables, type DrawBudget } from '../render/tensors';
import { jsonBlock, ms, preText, statusBadge, when } from '../render/values';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const present = (v: unknown) => v !== null && v !== undefined;
/** Entries, events and paths a page lists at most: a client can send thousands. */
const MAX_LIST = 200;

function more(total: number, shown: number, what: string): Html | string {
  return total > shown
    ? html`<p class="hint">${integer(total - shown)} more ${what} are not shown here; all are in the stored row's JSON at the end of the page.</p>`
    : '';
}

function fact(label: string, value: Html | string | number | null): Html {
  return html`<div><dt>${label}</dt><dd>${value === null || value === '' ? html`<span class="muted">–</span>` : value}</dd></div>`;
}

/** An object's members as a key/value table (headers, parameters, usage); anything else as JSON. */
function members(value: unknown, caption: string): Html {
  if (!present(value)) return html`<p class="muted">None.</p>`;
  if (typeof value !== 'object' || Array.isArray(value)) return jsonBlock(value);
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.length) return html`<p class="muted">None.</p>`;
  const shown = entries.slice(0, MAX_LIST);
  return html`<table class="kv"><caption class="visually-hidden">${caption}</caption><tbody>${shown.map(
    ([k, v]) =>
      html`<tr><th scope="row">${cut(k, 200)}</th><td class="mono">${cut(typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)), 2000)}</td></tr>`,
  )}</tbody></table>${more(entries.length, shown.length, 'members')}`;
}

function tensors(value: unknown, budget: DrawBudget): Html {
  if (!present(value)) return html`<p class="muted">None.</p>`;
  if (!isTensorList(value)) return jsonBlock(value);
  return tensorTables(value, budget);
}

function body(text: string | null, sha: string | null, bytes: number): Html {
  if (text === null)
    return html`<p class="hint">${bytes} bytes${sha ? html`, SHA-256 <code>${sha}</code>` : ''}; the body itself is not stored (its decoded content is above).</p>`;
  return html`<p class="hint">${bytes} bytes${sha ? html`, SHA-256 <code>${sha}</code>` : ''}, stored as text:</p><pre class="value">${preText(cut(text, 20_000))}</pre>`;
}

function eventItem(e: EventRow): Html {
  return html`<li>
<span class="when">${when(e.created_at)}</span>
<div class="event-title"><span class="what">${cut(e.type, 200)}</span>${e.actor ? html` by <strong>${cut(e.actor, 200)}</strong>` : ''}</div>
${present(e.data) ? jsonBlock(e.data, 4000) : ''}
${e.redactions.length ? html`<p class="hint">Redacted: ${e.redactions.join(', ')}</p>` : ''}
<p class="hint">Event chain <code>${e.chain_id ?? 'none'}</code>, seq ${e.chain_seq ?? '–'}</p>
</li>`;
}

function schemaErrors(r: RecordRow): Html {
  if (!Array.isArray(r.schema_errors) || !r.schema_errors.length)
    return html`<p><span class="badge ok">valid</span> The request and response matched the protocol's schema.</p>`;
  return html`<p><span class="badge warn">${r.schema_errors.length} schema error${r.schema_errors.length === 1 ? '' : 's'}</span> Stored as sent; what the schema expected:</p>
<ul>${r.schema_errors.slice(0, 200).map((e) => html`<li><code>${cut(typeof e === 'string' ? e : (JSON.stringify(e) ?? ''), 1000)}</code></li>`)}</ul>`;
}

function identification(view: InferenceView): Html {
  const id = view.identification;
  if (!id) return html``;
  return html`<h2>Identification (Art. 12(3))</h2>
<p><span class="badge ${id.satisfied ? 'ok' : 'bad'}">${id.satisfied ? 'complete' : 'incomplete'}</span>
Reference database: ${id.reference_database ?? html`<span class="muted">none named</span>`}; match: ${id.match === null ? 'not stated' : String(id.match)};
verifiers: ${id.verifiers.length ? id.verifiers.join(', ') : 'none'} (${id.required} needed for a match).</p>
${id.problems.length ? html`<ul>${id.problems.map((p) => html`<li>${p}</li>`)}</ul>` : ''}`;
}

function stated(view: InferenceView): Html {
  const s = view.stated;
  if (!s)
    return html`<p class="hint">No completeness statement of its writer covers this record yet (writers state at an interval and when they close).</p>`;
  return html`<p class="hint">Its writer's statement ${s.n} (${s.from} to ${s.to}${s.final ? ', final' : ''}): captured ${s.captured}, written ${s.written}, dropped ${s.dropped}.</p>`;
}

function inferenceBody(ctx: ConsoleContext, view: InferenceView, result: ShowResult): Html {
  const r = view.record;
  const chainHref = ctx.href(`/inferences/${r.id}/chain`);
  const budget = pageBudget();
  return html`<p class="hint"><a href="${ctx.href('/records')}">Records</a> › inference</p>
<h1>Inference <code>${r.id}</code></h1>
<dl class="summary">
${fact('Model', r.model_name === null ? null : cut(r.model_name, 120))}
${fact('Version', r.model_version === null ? null : cut(r.model_version, 60))}
${fact('Status', statusBadge(r.status, r.aborted))}
${fact('Latency', ms(r.latency_ms))}
${fact('Protocol', cut(r.protocol, 60))}
${fact('Method and route', cut(`${r.method} ${r.route ?? r.path}`, 120))}
${fact('Request id', cut(r.request_id, 120))}
${fact('Started (UTC)', when(r.started_at))}
</dl>
<nav class="toc" aria-label="On this page"><a href="#chain-heading">Integrity</a> <a href="#request">Request</a> <a href="#response">Response</a> <a href="#validation">Validation</a> <a href="#redaction">Redaction</a> <a href="#timing">Timing</a> <a href="#events">Oversight events (${view.events.length})</a></nav>

<h2 id="chain-heading">Integrity</h2>
<div id="chain" data-chain-src="${chainHref}" aria-live="polite">
<p>${r.chain_id ? html`Record chain <code>${r.chain_id}</code>, seq ${r.chain_seq}, record hash <code>${r.record_hash ?? ''}</code>.` : 'This row belongs to no chain: nothing vouches for it.'}</p>
<p><a class="button secondary" href="${chainHref}">Check the chain up to this record</a> <span class="hint">It reads the chain from its first row: on a long chain this takes a while.</span></p>
</div>
${stated(view)}

<h2 id="request">Request</h2>
<h3>Parameters</h3>${members(r.parameters, 'Request parameters')}
<h3>Inputs</h3>${tensors(r.inputs, budget)}
<h3>Headers</h3>${members(r.request_headers, 'Request headers')}
<h3>Body</h3>${body(r.request_body, r.request_sha256, r.request_bytes)}

<h2 id="response">Response</h2>
<h3>Outputs</h3>${tensors(r.outputs, budget)}
<h3>Parameters</h3>${members(r.response_parameters, 'Response parameters')}
<h3>Usage</h3>${members(r.usage, 'Usage')}
<h3>Error</h3>${present(r.error) ? jsonBlock(r.error) : html`<p class="muted">None.</p>`}
<h3>Headers</h3>${members(r.response_headers, 'Response headers')}
<h3>Body</h3>${body(r.response_body, r.response_sha256, r.response_bytes)}

<h2 id="validation">Validation</h2>
${schemaErrors(r)}

<h2 id="redaction">Redaction</h2>
${r.redactions.length ? html`<p>What redaction removed or replaced before the record was stored:</p><ul>${r.redactions.slice(0, MAX_LIST).map((p) => html`<li><code>${cut(p, 500)}</code></li>`)}</ul>${more(r.redactions.length, MAX_LIST, 'paths')}` : html`<p class="muted">Nothing was redacted.</p>`}
${r.truncated.length ? html`<p>Cut to the size limits: ${r.truncated.slice(0, MAX_LIST).map((p, i) => html`${i ? ', ' : ''}<code>${cut(p, 200)}</code>`)}</p>${more(r.truncated.length, MAX_LIST, 'paths')}` : ''}

<h2 id="timing">Timing</h2>
<table class="kv"><tbody>
<tr><th scope="row">Started</th><td>${when(r.started_at)}</td></tr>
<tr><th scope="row">Ended</th><td>${when(r.ended_at)}</td></tr>
<tr><th scope="row">Latency</th><td>${ms(r.latency_ms)}</td></tr>
<tr><th scope="row">Service</th><td>${[r.service, r.service_version, r.host].filter(present).join(' · ') || '–'}</td></tr>
<tr><th scope="row">Trace</th><td class="mono">${r.trace_id ?? '–'}${r.span_id ? ` / ${r.span_id}` : ''}</td></tr>
<tr><th scope="row">Inference id</th><td class="mono">${r.inference_id ?? '–'}</td></tr>
</tbody></table>

<h2>Annotations</h2>
${members(r.annotations, 'Annotations')}
${identification(view)}

<h2 id="events">Oversight events</h2>
${view.events.length ? html`<ol class="timeline">${view.events.slice(0, MAX_LIST).map(eventItem)}</ol>${view.events.length > MAX_LIST ? html`<p class="hint">The first ${MAX_LIST} of ${integer(view.events.length)} events are shown; <code>inferlog show ${r.id} --json</code> lists them all.</p>` : ''}` : html`<p class="muted">No oversight event names this inference (by its id or its request id).</p>`}

${result.dropped.length ? html`<h2>Dropped with the same id</h2><ul>${result.dropped.map((d) => html`<li>${d.at}: request ${cut(d.request_id, 200)}, ${d.reason}, statement ${d.statement} of chain <code>${d.chain_id}</code></li>`)}</ul>` : ''}

<details><summary>The stored row as JSON</summary>${jsonBlock(r, 200_000)}</details>`;
}

/** One inference by its id; a request id shared by several records lists them instead. */
export async function inferencePage(ctx: ConsoleContext): Promise<Page | RawResponse> {
  const key = ctx.params[0]!;
  // A UUID is an id, but a client may have sent it as another request's id: the record with that id is the one.
  const result = await showInference(ctx.db, ctx.schema, ctx.table, key, { verify: false, limit: 10 });
  const view = result.inferences.find((v) => v.record.id === key.toLowerCase()) ?? result.inferences[0];
  if (!view)
    return {
      kind: 'page',
      status: 404,
      title: 'No such inference',
      section: 'records',
      body: html`<h1>No such inference</h1><p>No record has the id or request id <code>${cut(key, 200)}</code>.</p>${
        result.dropped.length
          ? html`<p class="error-box">Its writer stated that it dropped a record with this id: see the verify page.</p>`
          : ''
      }`,
    };
  if (!UUID.test(key) && result.total > 1) return redirect(ctx.href('/records', { request_id: key }));
  return { kind: 'page', title: `Inference ${view.record.id}`, section: 'records', body: inferenceBody(ctx, view, result) };
}

function chainVerdict(check: ChainCheck | null, what: string): Html {
  if (!check) return html`<div class="verdict warn">${what} belongs to no chain: nothing vouches for it.</div>`;
  if (check.ok)
    return html`<div class="verdict ok">Verifies: ${what}: chain <code>${check.chain_id}</code> was checked from its start through seq ${check.through_seq} (${check.rows} row${check.rows === 1 ? '' : 's'}); no problem.</div>`;
  const first = check.problems[0];
  return html`<div class="verdict bad" role="alert">Does not verify: chain <code>${check.chain_id}</code> through seq ${check.through_seq}.
<span class="detail">First problem: ${first ? first.message : 'no rows found'}${check.problems.length > 1 ? ` (and ${check.problems.length - 1} more)` : ''}</span></div>`;
}

/** Whether the record's chain, and each event chain of its events, verifies up to it: a fragment the page loads, or a page of its own. */
export async function chainFragment(ctx: ConsoleContext): Promise<Page | RawResponse> {
  const id = ctx.params[0]!;
  if (!UUID.test(id)) return redirect(ctx.href(`/inferences/${encodeURIComponent(id)}`));
  const result = await ctx.longWork.run(() => showInference(ctx.db, ctx.schema, ctx.table, id, { verify: true, limit: 1 }));
  // The verdict alone for the page's script to insert (`?fragment=1`), else a page of its own.
  const answer = (content: Html): Page | RawResponse =>
    ctx.url.searchParams.get('fragment') === '1'
      ? { kind: 'raw', status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: content.value }
      : {
          kind: 'page',
          title: `Chain of ${id}`,
          section: 'records',
          body: html`<p class="hint"><a href="${ctx.href(`/inferences/${id}`)}">Back to the inference</a></p><h1>Chain up to inference <code>${id}</code></h1>${content}`,
        };
  const view = result.inferences.find((v) => v.record.id === id.toLowerCase());
  if (!view)
    // An older record carrying this id as its request id comes first: `inferlog show` verifies them all.
    return answer(
      result.inferences.length
        ? html`<div class="verdict warn">Not checked here: another record carries this id as its request id. Run <code>inferlog show ${id}</code>.</div>`
        : html`<div class="verdict warn">No record has this id.</div>`,
    );
  return answer(html`${chainVerdict(view.chain, 'This record')}
${result.event_chains.map((c) => chainVerdict(c, 'Its oversight events'))}`);
}
