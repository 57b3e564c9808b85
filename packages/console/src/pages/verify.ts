import { html, verifyLog, type Html } from '@inferlog/core/audit';
import type { ConsoleContext } from '../context';
import type { Page } from '../layout';
import { textField } from '../render/fields';
import { completenessSection } from '../render/verify-completeness';
import { chainsTable, furtherProblems, verdict } from '../render/verify-report';
import { parseVerifyInput, type VerifyField, type VerifyInput } from './verify-input';

/** Problems kept by a verification (as `inferlog verify` keeps by default). */
const MAX_PROBLEMS = 100;

const BUSY = 'Verifying: reading every row of the log and its events. On a large log this takes minutes; keep this page open.';

function field(input: VerifyInput, name: VerifyField, label: string, placeholder: string, hint: string): Html {
  return textField({ name, label, value: input.kept[name], placeholder, problem: input.problems[name], hint });
}

/** The form: one chain or the whole log, the completeness period, the form token; it says a run takes a while. */
function verifyFormHtml(ctx: ConsoleContext, input: VerifyInput): Html {
  return html`<form class="action verify-form" method="post" action="${ctx.href('/verify')}" data-busy="${BUSY}" aria-label="Verify the log">
<input type="hidden" name="csrf" value="${ctx.csrf}">
${field(input, 'chain', 'Chain (optional)', 'empty: the whole log', 'One chain id (a UUID); empty: every chain and the completeness report')}
${field(input, 'since', 'Completeness since', '25h, 2026-05-01', 'Losses stated and silences begun since (whole log only)')}
${field(input, 'until', 'Completeness until', 'now, 2026-05-02T12:00Z', 'The period ends (UTC)')}
<div class="actions"><button type="submit">Verify</button></div>
<p class="busy hint" role="status" aria-live="polite"></p>
</form>`;
}

const intro = html`<p class="verify-intro">Recomputes every hash chain from the rows as stored, in one snapshot: each row must match its
<code>record_hash</code> and follow the row before it, and every chain must reach the head its writer recorded and signed. The first
problem named is where tampering starts. Verification reads every row of the log and its events: <strong>on a large log it takes minutes</strong>.</p>`;

// A field that cannot be read is shown beside it with 200, as the records page shows a filter: the form is the answer.
function page(ctx: ConsoleContext, input: VerifyInput, results: Html | string): Page {
  return {
    kind: 'page',
    title: 'Verify',
    section: 'verify',
    body: html`<h1>Verify</h1>
${intro}
${verifyFormHtml(ctx, input)}
${results}`,
  };
}

/** The verify form. */
export async function verifyForm(ctx: ConsoleContext): Promise<Page> {
  return page(ctx, { kept: {}, problems: {} }, '');
}

/** Runs the verification the form asks for and shows the verdict, the first problem, the chains and the log's completeness. */
export async function verifyRun(ctx: ConsoleContext): Promise<Page> {
  const input = parseVerifyInput(ctx.form ?? new URLSearchParams());
  if (Object.keys(input.problems).length)
    return page(
      ctx,
      input,
      html`<div class="error-box" role="alert">A field could not be read: see the field marked above. Nothing was verified.</div>`,
    );
  const period = { ...(input.since ? { since: input.since } : {}), ...(input.until ? { until: input.until } : {}) };
  const started = Date.now();
  const report = await ctx.longWork.run(() =>
    verifyLog(ctx.db, ctx.schema, ctx.table, { chain: input.chain, maxProblems: MAX_PROBLEMS, completeness: period }),
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (input.chain && report.rows === 0) {
    input.problems.chain = `chain ${input.chain} has no rows in ${ctx.schema}.${ctx.table}: nothing to verify (verify the whole log to see its chains)`;
    return page(ctx, input, '');
  }
  const what = input.chain ? `chain ${input.chain}` : 'the log';
  const scope =
    input.since || input.until ? `${input.since?.toISOString() ?? 'the start'} .. ${input.until?.toISOString() ?? 'now'}` : 'the whole log';
  return page(
    ctx,
    input,
    html`<p class="hint verify-scope">Verified ${what === 'the log' ? html`the whole log <code>${ctx.schema}.${ctx.table}</code>` : html`chain <code>${input.chain}</code> of <code>${ctx.schema}.${ctx.table}</code>`} at ${new Date().toISOString()} in ${seconds} s.</p>
${verdict(ctx, report, what, MAX_PROBLEMS)}
${furtherProblems(ctx, report, MAX_PROBLEMS)}
${chainsTable(report)}
${
  report.completeness
    ? completenessSection(report.completeness, scope)
    : html`<h2>Completeness</h2><p class="muted">${input.chain ? 'Reported when the whole log is verified (the writers’ statements speak for all their chains).' : 'Not reported.'}</p>`
}`,
  );
}
