// The sections of the evidence report, one function each: the report's data in, Html out.
import { basename } from 'node:path';
import { cut, decimal, html, integer, percent, type Html } from './html';
import { dataTable, factTable, type TableColumn } from './html-table';
import type { EvidenceReport } from './report';
import type { AuditEntry } from './report-retention';
import type { Breakdown, ModelFigures } from './report-logged';
import type { EventCount } from './report-oversight';
import type { ChainSummary } from './verify';

/** Rows of a per-day table shown in the document; all of them are in the report's JSON. */
const DAILY_ROWS = 400;
/** Chains listed in the document; all of them are in the report's JSON. */
const CHAIN_ROWS = 200;
const IN_JSON = "every row is in the report's JSON (inferlog report --json)";

/** A value that is null, shown so it cannot be taken for text a client sent: in italics, in parentheses. */
export const missing = (what: string) => html`<span class="none">(${what})</span>`;
export const named = (value: string | null, none: string) => (value === null ? missing(none) : cut(value));
const yesNo = (value: boolean) => (value ? 'yes' : 'no');
export const time = (iso: string | null) => (iso === null ? missing('none') : iso);

export const count = <T>(header: string, value: (row: T) => number): TableColumn<T> => ({
  header,
  cell: (r) => integer(value(r)),
  kind: 'number',
});

function breakdownTable(caption: string, header: string, b: Breakdown, none: string): Html {
  return dataTable(
    caption,
    b.values,
    [
      { header, cell: (v) => named(v.value, none), kind: 'text' },
      count('inferences', (v) => v.inferences),
      count('failed', (v) => v.errors),
      { header: 'error rate (%)', cell: (v) => percent(v.inferences ? v.errors / v.inferences : 0), kind: 'number' },
    ],
    {
      empty: 'no inferences in the period',
      beyond: b.others.values,
      more: `${integer(b.others.inferences)} inferences under values beyond the first ${integer(b.values.length)}`,
    },
  );
}

export function loggedSection(r: EvidenceReport): Html {
  const { totals, by_model: models } = r.logged;
  const modelColumns: TableColumn<ModelFigures>[] = [
    { header: 'model', cell: (m) => named(m.model_name, 'no model recorded'), kind: 'text' },
    count('inferences', (m) => m.inferences),
    count('failed', (m) => m.errors),
    { header: 'error rate (%)', cell: (m) => percent(m.error_rate), kind: 'number' },
    { header: 'p50 latency (ms)', cell: (m) => decimal(m.p50_ms), kind: 'number' },
    { header: 'p95 latency (ms)', cell: (m) => decimal(m.p95_ms), kind: 'number' },
    count('input tokens', (m) => m.input_tokens),
    count('output tokens', (m) => m.output_tokens),
  ];
  return html`<p>The inferences that started in the period (<code>started_at</code> from ${r.period.since} up to, not including, ${r.period.until}). "Failed" counts a status of 400 or more, or an error recorded (also on a stream that failed after a 2xx status). Latencies are interpolated percentiles (PostgreSQL <code>percentile_cont</code>); tokens are the sums of what the inferences report in <code>usage</code>.</p>
${factTable('Totals', [
  ['Inferences', integer(totals.inferences)],
  ['Failed', integer(totals.errors)],
  ['Error rate (%)', percent(totals.error_rate)],
  ['Latency p50 (ms)', decimal(totals.p50_ms)],
  ['Latency p95 (ms)', decimal(totals.p95_ms)],
  ['Aborted by the client', integer(r.logged.aborted)],
  ['Input tokens', integer(totals.input_tokens)],
  ['Output tokens', integer(totals.output_tokens)],
  ['Models', integer(models.length + r.logged.models_beyond_limit)],
  ['First inference (UTC)', time(totals.first_started_at)],
  ['Last inference (UTC)', time(totals.last_started_at)],
])}
${dataTable('Per model', models, modelColumns, { empty: 'no inferences in the period', beyond: r.logged.models_beyond_limit, more: IN_JSON })}
${breakdownTable('Per protocol', 'protocol', r.logged.by_protocol, 'none')}
${breakdownTable('Per route', 'route (matched pattern)', r.logged.by_route, 'no route matched')}
${breakdownTable('Per status class', 'status', r.logged.by_status, 'none')}
${dataTable(
  'Per UTC day and model',
  r.logged.daily,
  [
    { header: 'day (UTC)', cell: (d) => d.day, kind: 'time' },
    { header: 'model', cell: (d) => named(d.model_name, 'no model recorded'), kind: 'text' },
    count('inferences', (d) => d.count),
    count('failed', (d) => d.errors),
    { header: 'error rate (%)', cell: (d) => percent(d.error_rate), kind: 'number' },
    { header: 'p50 latency (ms)', cell: (d) => decimal(d.p50_ms), kind: 'number' },
    { header: 'p95 latency (ms)', cell: (d) => decimal(d.p95_ms), kind: 'number' },
  ],
  { empty: 'no inferences in the period', limit: DAILY_ROWS, more: `${IN_JSON} and in inferlog stats` },
)}`;
}

/** A field of an audit row's details, when it is there. */
function detail(entry: AuditEntry, key: string): unknown {
  const d = entry.details;
  return d && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>)[key] : undefined;
}
const detailCount = (entry: AuditEntry, key: string) => {
  const v = detail(entry, key);
  return typeof v === 'number' ? integer(v) : Array.isArray(v) ? integer(v.length) : missing('not recorded');
};

export function retentionSection(r: EvidenceReport): Html {
  const ret = r.retention;
  const hold = ret.hold;
  const last = ret.last_run;
  return html`<p>What the log keeps, what retention dropped (whole monthly partitions, each run recorded in the audit table with who ran it and why), and the legal hold that blocks retention. The log records no retention setting of its own: the period kept is the one the last run was given.</p>
${factTable('Retention', [
  [
    'Retention floor',
    `six months: 6mo, or ${integer(ret.floor_days)} days for a period in days or weeks (AI Act Art. 19(1), 26(6): keep logs at least six months; shorter only with force)`,
  ],
  ['Period kept by the last run', ret.last_keep ?? missing('retention has not run before the end of the period')],
  ['Last run (UTC)', last ? html`${last.at} by ${cut(last.actor)}` : missing('none')],
  ['Retention runs in the period', integer(ret.runs.length)],
  ['Monthly partitions held now', integer(ret.partitions.count)],
  ['Oldest partition starts (UTC)', time(ret.partitions.oldest_from)],
  ['Newest partition ends (UTC)', time(ret.partitions.newest_to)],
  ['Records dropped by retention so far', integer(ret.dropped.rows)],
  ['Chain stretches recorded for them (gaps)', integer(ret.dropped.stretches)],
])}
${dataTable(
  'Retention runs in the period',
  ret.runs,
  [
    { header: 'at (UTC)', cell: (e) => e.at, kind: 'time' },
    { header: 'actor', cell: (e) => cut(e.actor), kind: 'text' },
    { header: 'reason', cell: (e) => named(e.reason, 'none given'), kind: 'text' },
    { header: 'cutoff (UTC)', cell: (e) => String(detail(e, 'cutoff') ?? '–'), kind: 'time' },
    { header: 'partitions dropped', cell: (e) => detailCount(e, 'partitions'), kind: 'number' },
    { header: 'records dropped', cell: (e) => detailCount(e, 'rows'), kind: 'number' },
  ],
  { empty: 'none' },
)}
${factTable('Legal hold', [
  [
    'Hold now',
    hold.now.since === null
      ? 'off (never set)'
      : html`${hold.now.active ? 'ON' : 'off'} since ${hold.now.since}, ${hold.now.active ? 'set' : 'lifted'} by ${cut(hold.now.actor ?? '')} (reason: ${cut(hold.now.reason ?? '')})`,
  ],
  ['On when the period began', yesNo(hold.active_at_start)],
  ['On at any time in the period', yesNo(hold.in_force_in_period)],
])}
${dataTable(
  'Hold set and lifted in the period',
  hold.changes,
  [
    { header: 'at (UTC)', cell: (e) => e.at, kind: 'time' },
    { header: 'change', cell: (e) => (e.action === 'hold on' ? 'set' : e.action === 'hold off' ? 'lifted' : e.action) },
    { header: 'actor', cell: (e) => cut(e.actor), kind: 'text' },
    { header: 'reason', cell: (e) => named(e.reason, 'none given'), kind: 'text' },
  ],
  { empty: 'none' },
)}`;
}

export function oversightSection(r: EvidenceReport): Html {
  const o = r.oversight;
  const inferences = r.logged.totals.inferences;
  const eventColumns = (header: string, none: string): TableColumn<EventCount>[] => [
    { header, cell: (e) => named(e.value, none), kind: 'text' },
    count('events', (e) => e.events),
  ];
  return html`<p>Oversight events (human review, override, second verifier, feedback, ground truth, incident, …) recorded in the period (<code>created_at</code>), each about an inference by its id or request id. The coverage counts the period's inferences that have events about them, recorded at any time up to the report.</p>
${factTable('Oversight in the period', [
  ['Events recorded', integer(o.events)],
  ['Distinct actors', integer(o.actors)],
  ['Distinct subjects (inference ids or request ids)', integer(o.subjects)],
  [
    "The period's inferences with at least one event",
    `${integer(o.inferences_with_events)} of ${integer(inferences)} (${percent(inferences ? o.inferences_with_events / inferences : 0)} %)`,
  ],
  ["Events about the period's inferences", integer(o.events_about_inferences)],
  ['Events per inference of the period', decimal(inferences ? o.events_about_inferences / inferences : null, 3)],
])}
${dataTable('Per event type', o.by_type, eventColumns('type', 'none'), { empty: 'no events in the period', beyond: o.types_beyond_limit, more: IN_JSON })}
${dataTable('Per actor', o.by_actor, eventColumns('actor', 'no actor named'), { empty: 'no events in the period', beyond: o.actors_beyond_limit, more: IN_JSON })}
${dataTable(
  'Per UTC day and type',
  o.by_day,
  [
    { header: 'day (UTC)', cell: (d) => d.day, kind: 'time' },
    { header: 'type', cell: (d) => cut(d.type), kind: 'text' },
    count('events', (d) => d.events),
  ],
  { empty: 'no events in the period', limit: DAILY_ROWS, more: IN_JSON },
)}`;
}

function signature(c: ChainSummary): Html | string {
  if (!c.head) return missing('unregistered');
  if (c.signed) return 'signed';
  return c.origin === null && c.ok ? 'unsigned (registered before chain keys)' : 'NOT SIGNED';
}

/** The verdict of verification, for the top of the document and for its section. */
export function verdict(r: EvidenceReport): Html {
  const v = r.verification;
  if (v.ok)
    return html`<p class="verdict ok">Verified: every row of the log (${integer(v.rows)} records and events in ${integer(v.chains.length)} chains) matches its hash and follows the row before it, and every chain reaches the head its writer recorded.</p>`;
  const first = v.problems[0];
  return html`<p class="verdict failed" role="alert">VERIFICATION FAILED: the log does not verify. First problem: ${first ? cut(first.message, 1000) : 'unknown'}</p>`;
}

export function verificationSection(r: EvidenceReport): Html {
  const v = r.verification;
  const problems = v.ok
    ? ''
    : html`<h3>Problems found (the first is where tampering starts)</h3>
<ol class="problems">${v.problems.map((p) => html`<li>${p.kind}: ${cut(p.message, 1000)}</li>`)}</ol>
${v.more_problems ? html`<p class="note">More problems were found than are listed: run <code>inferlog verify</code> for all of them.</p>` : ''}`;
  return html`${verdict(r)}
<p>Verification recomputes every hash chain of the whole log, records and oversight events, not only the period: the rows of a period verify only with those before them. Each row must match its <code>record_hash</code> and follow the row before it (sequence number and <code>prev_hash</code>), unless retention dropped the rows between and recorded it; each chain must end at the head its writer recorded, signed with the key the writer registered. It is the check <code>inferlog verify</code> makes, in the report's snapshot.</p>
${factTable('Verification', [
  ['Scope', 'the whole log'],
  ['Result', v.ok ? 'OK' : 'FAILED'],
  ['Rows checked (records and events)', integer(v.rows)],
  ['Chains', integer(v.chains.length)],
  ['Chains with a signed head', integer(v.chains.filter((c) => c.signed).length)],
])}
${problems}
${dataTable(
  'Chains',
  v.chains,
  [
    { header: 'of', cell: (c) => c.table },
    { header: 'chain', cell: (c) => html`<code>${c.chain_id}</code>`, kind: 'text' },
    count('rows', (c) => c.rows),
    { header: 'seq', cell: (c) => (c.first_seq === null ? '–' : `${c.first_seq}..${c.last_seq ?? c.first_seq}`), kind: 'number' },
    { header: 'recorded head', cell: (c) => (c.head ? String(c.head.seq) : missing('unregistered')), kind: 'number' },
    { header: 'head signature', cell: signature },
    {
      header: 'registered by (as the server saw it)',
      kind: 'text',
      cell: (c) =>
        c.origin
          ? `${cut(c.origin.registered_by ?? '?')}@${c.origin.client_addr ?? 'local socket'} at ${c.origin.registered_at ?? '?'}`
          : '–',
    },
    { header: 'ok', cell: (c) => (c.ok ? 'ok' : 'FAILED') },
  ],
  { empty: 'the log has no rows', limit: CHAIN_ROWS, more: IN_JSON },
)}`;
}

export function exportSection(r: EvidenceReport): Html {
  const e = r.export;
  if (!e)
    return html`<p>No export was made with this report. <code>inferlog report --export FILE</code> exports the period's records and their oversight events in the report's snapshot and puts the manifest's SHA-256 here.</p>`;
  const same = e.records === r.logged.totals.inferences;
  return html`<p>The period's records (JSONL, every column in canonical form with its <code>record_hash</code>) and the oversight events about them, exported in the report's snapshot, with the manifest that describes both files. The report names the manifest's SHA-256 and the manifest names each file's: the report and the export vouch for each other.</p>
${factTable('Export of the period', [
  ['Records file', html`<code>${basename(e.file)}</code>`],
  [
    'Records exported',
    `${integer(e.records)} (${same ? 'the inferences counted above' : `NOT the ${integer(r.logged.totals.inferences)} inferences counted above`})`,
  ],
  ['Records file SHA-256', html`<code class="hash">${e.records_sha256}</code>`],
  ['Events file', html`<code>${basename(e.events_file)}</code>`],
  ['Oversight events exported', integer(e.events)],
  ['Events file SHA-256', html`<code class="hash">${e.events_sha256}</code>`],
  ['Manifest', html`<code>${basename(e.manifest_file)}</code>`],
  ['Manifest SHA-256', html`<code class="hash" id="manifest-sha256">${e.manifest_sha256}</code>`],
])}
<p>To check the export without the database: <code>inferlog verify --bundle ${basename(e.manifest_file)}</code>. It checks every file, line and hash against the manifest and prints the manifest's SHA-256, which must be the one above. Against the database later: <code>inferlog verify --against ${basename(e.manifest_file)}</code>.</p>`;
}

export function aboutSection(r: EvidenceReport): Html {
  return html`<p>Made by inferlog ${r.inferlog_version} from ${r.source.schema}.${r.source.table} in database ${cut(r.source.database)} (PostgreSQL ${r.source.server_version}), in one read-only REPEATABLE READ snapshot taken at ${r.generated_at}: the figures, the verification and the export describe the same rows, whatever was written meanwhile. Times are UTC, ISO 8601. Numbers of five digits or more are grouped by three with a thin space; decimals have a point.</p>
<p>What the log cannot show on its own: an owner of the database who replaces a chain whole, with a key of their own, or deletes one with its registration. An export's manifest kept outside the database is the anchor against that: compare it with <code>inferlog verify --against</code>. Values that clients sent (model names, routes, actors, event types) are shown as text, cut after 200 characters, with invisible and direction-changing characters shown as <code>\\uXXXX</code>.</p>
<p>The same report as JSON, every row of every table included: <code>inferlog report --json</code>.</p>`;
}
