// A verification's result as the verify page shows it: the verdict with the first problem (where tampering
// starts) named field by field, the further problems, and a table of the chains. The same facts as
// `inferlog verify` prints. Chain ids are UUIDs, but messages and origins are read from the log: all text.
import { cut, html, integer, type ChainProblem, type ChainSummary, type Html, type VerifyReport } from '@inferlog/core/audit';
import type { ConsoleContext } from '../context';

/** Chains listed in the table at most (failed ones first); a log of many writers has many chains. */
export const CHAINS_SHOWN = 500;

const plural = (n: number, one: string, many = `${one}s`) => `${integer(n)} ${n === 1 ? one : many}`;
const range = (first: number | null, last: number | null) => (first === null ? '–' : `${first}..${last ?? first}`);
const missing = html`<span class="muted">–</span>`;

/** A link to the record's inference page when the problem names a row of the records table. */
function recordLink(ctx: ConsoleContext, p: ChainProblem, label: Html | string): Html {
  if (p.table !== 'records' || !p.id) return html`${label}`;
  return html`<a href="${ctx.href(`/inferences/${p.id}`)}">${label}</a>`;
}

function fact(label: string, id: string, value: Html | string | number | null): Html {
  return html`<div><dt>${label}</dt><dd id="${id}">${value === null ? missing : value}</dd></div>`;
}

function firstProblem(ctx: ConsoleContext, p: ChainProblem): Html {
  return html`<p class="verify-lead">The first problem, where tampering starts:</p>
<dl class="verify-first">
${fact('Kind', 'first-kind', html`<span class="badge bad">${p.kind}</span>`)}
${fact('Table', 'first-table', p.table)}
${fact('Chain', 'first-chain', p.chain_id === null ? 'none' : html`<code>${p.chain_id}</code>`)}
${fact('Seq', 'first-seq', p.seq)}
${fact('Row id', 'first-id', p.id === null ? null : recordLink(ctx, p, html`<code>${p.id}</code>`))}
</dl>
<p class="verify-message" id="first-message">${cut(p.message, 2000)}</p>
${p.table === 'records' && p.id ? html`<p><a class="button" href="${ctx.href(`/inferences/${p.id}`)}">Open record ${p.id}</a></p>` : ''}`;
}

/** What the verdict says when every check passed. */
function passed(report: VerifyReport): string {
  const unsigned = report.chains.filter((c) => c.head && !c.signed).length;
  const signature =
    unsigned === 0
      ? "signed by its writer's key"
      : `signed by its writer's key but for ${plural(unsigned, 'chain')} registered before chain keys (unsigned)`;
  return `Every row matches its hash and follows the one before it; every chain reaches its recorded head, ${signature}.`;
}

/** The verdict: OK, or DOES NOT VERIFY with the first problem; `what` is "the log" or "chain …". */
export function verdict(ctx: ConsoleContext, report: VerifyReport, what: string, maxProblems: number): Html {
  const counted = `${plural(report.rows, 'row')} in ${plural(report.chains.length, 'chain')}`;
  if (report.ok)
    return html`<section class="verify-verdict ok" aria-labelledby="verdict-title">
<h2 id="verdict-title" class="verdict-title">OK: ${what} verifies</h2>
<p>${counted} checked. ${passed(report)}</p>
</section>`;
  const n = report.problems.length;
  const first = report.problems[0];
  return html`<section class="verify-verdict bad" role="alert" aria-labelledby="verdict-title">
<h2 id="verdict-title" class="verdict-title">DOES NOT VERIFY: ${what}</h2>
<p>${counted} checked; ${n >= maxProblems ? `${integer(n)} problems or more` : plural(n, 'problem')} found.</p>
${first ? firstProblem(ctx, first) : html`<p>No problem was recorded.</p>`}
</section>`;
}

/** The problems after the first, each with a link to its record when it names one. */
export function furtherProblems(ctx: ConsoleContext, report: VerifyReport, maxProblems: number): Html {
  const rest = report.problems.slice(1);
  if (!rest.length) return html``;
  return html`<h2 id="problems">${plural(rest.length, 'further problem')}${report.problems.length >= maxProblems ? ' (the first ones; there may be more)' : ''}</h2>
<ol class="verify-problems">
${rest.map(
  (p) => html`<li><span class="badge bad">${p.kind}</span> <span class="muted">${p.table}${p.seq === null ? '' : `, seq ${p.seq}`}</span>
${p.table === 'records' && p.id ? html`<a href="${ctx.href(`/inferences/${p.id}`)}">${p.kind === 'missing' ? 'the record after the gap' : 'record'} <code>${p.id}</code></a>` : ''}
<span class="verify-message">${cut(p.message, 2000)}</span></li>`,
)}
</ol>`;
}

function signature(c: ChainSummary): Html {
  if (!c.head) return missing;
  if (c.signed) return html`<span class="badge ok">signed</span>`;
  return c.origin === null && c.ok
    ? html`<span class="badge info">unsigned (legacy)</span>`
    : html`<span class="badge bad">NOT SIGNED</span>`;
}

/** Who registered the chain, as the server saw it (the writer's own claim of host and pid is not shown). */
function origin(c: ChainSummary): Html {
  const o = c.origin;
  if (!o) return missing;
  const who = `${o.registered_by ?? 'unknown'}@${o.client_addr ?? 'local socket'}`;
  const full = `by ${o.registered_by ?? 'unknown'} from ${o.client_addr ?? 'a local socket'} at ${o.registered_at ?? 'unknown'}, session started ${o.backend_start ?? 'unknown'}`;
  return html`<span title="${cut(full, 500)}">${cut(who, 80)}</span>`;
}

/** The chains verified, failed ones first, as a table. */
export function chainsTable(report: VerifyReport): Html {
  if (!report.chains.length) return html`<h2>Chains</h2><p class="muted">No chain has rows: there is nothing to verify yet.</p>`;
  const chains = [...report.chains.filter((c) => !c.ok), ...report.chains.filter((c) => c.ok)];
  const shown = chains.slice(0, CHAINS_SHOWN);
  return html`<h2 id="chains">Chains</h2>
${chains.length > shown.length ? html`<p class="hint">The first ${integer(shown.length)} of ${integer(chains.length)} chains, failed ones first.</p>` : ''}
<div class="table-wrap"><table class="verify-chains">
<thead><tr><th scope="col">Chain</th><th scope="col">Table</th><th scope="col" class="num">Rows</th><th scope="col">Seq</th><th scope="col" class="num">Recorded head</th><th scope="col">Head signature</th><th scope="col">Registered by</th><th scope="col">Verdict</th></tr></thead>
<tbody>
${shown.map(
  (c) => html`<tr>
<td class="mono">${c.chain_id}</td>
<td>${c.table}</td>
<td class="num">${integer(c.rows)}</td>
<td class="nowrap">${range(c.first_seq, c.last_seq)}</td>
<td class="num">${c.head ? c.head.seq : html`<span class="badge bad">unregistered</span>`}</td>
<td>${signature(c)}</td>
<td>${origin(c)}</td>
<td>${c.ok ? html`<span class="badge ok">ok</span>` : html`<span class="badge bad">FAILED</span>`}</td>
</tr>`,
)}
</tbody></table></div>`;
}
