import {
  isTensorList,
  showFromBundle,
  showInference,
  type BundleInferenceView,
  type ChainCheck,
  type EventRow,
  type InferenceView,
  type StatedPeriod,
} from '@inferlog/core/audit';
import { act, type CommandModule } from '../context';
import type { CliIo } from '../io';
import { withLog } from '../database';
import { EXIT } from '../errors';
import { identificationLines } from '../identification';
import { addLogOptions, logOptionsOf, wholeNumber, type CommonOptions } from '../options';
import { bytes, count, fit, indent, ms, pretty, print, printJson } from '../output';

interface ShowOptions extends CommonOptions {
  limit: number;
  verify: boolean;
  bundle?: string;
}

const orNone = (values: readonly unknown[] | null | undefined) => (values?.length ? values.join(', ') : 'none');
const present = (value: unknown) => value !== null && value !== undefined;

function field(label: string, value: string): string {
  return value.includes('\n') ? `${label}:\n${indent(value, 4)}` : `${label.padEnd(14)}${value}`;
}

/** Tensors one per line: name, datatype, shape, then the data as compact JSON (cut when long). */
function tensors(value: unknown): string {
  if (!isTensorList(value)) return pretty(value);
  return value
    .map((t) => {
      const shape = Array.isArray(t.shape) ? `[${t.shape.join(', ')}]` : '';
      return `${String(t.name)} ${String(t.datatype ?? '')} ${shape}: ${fit(JSON.stringify(t.data) ?? 'null', 2000)}`.replace(/\s+:/, ':');
    })
    .join('\n');
}

/** An object's members one per line (key, then compact JSON); short objects stay on one line. */
function members(value: unknown): string {
  const compact = JSON.stringify(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || compact.length <= 100) return fit(compact, 2000);
  const entries = Object.entries(value);
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${fit(typeof v === 'string' ? v : JSON.stringify(v), 2000)}`).join('\n');
}

function chainLine(check: ChainCheck | null, what: string): string {
  if (!check) return `${what} belongs to no chain: nothing vouches for it`;
  if (check.ok)
    return `verifies: chain ${check.chain_id} checked from its start through seq ${check.through_seq} (${count(check.rows)} row${check.rows === 1 ? '' : 's'}), no problem`;
  const first = check.problems[0];
  return `DOES NOT VERIFY: chain ${check.chain_id} through seq ${check.through_seq}: ${first ? first.message : 'no rows found'}${check.problems.length > 1 ? ` (and ${check.problems.length - 1} more problems; run "inferlog verify --chain ${check.chain_id}")` : ''}`;
}

function eventLine(e: EventRow, changed: readonly string[]): string {
  const data = present(e.data) ? ` ${pretty(e.data, 400)}` : '';
  const redactions = e.redactions.length ? ` (redacted: ${e.redactions.join(', ')})` : '';
  const verdict = changed.includes(e.id) ? '  CHANGED: its content does not match its record_hash' : '';
  return `${e.created_at}  ${e.type}${e.actor ? ` by ${e.actor}` : ''}${data}${redactions}  [chain ${e.chain_id} seq ${e.chain_seq}]${verdict}`;
}

/** What the Chain section says: from the database, whether the chain verifies up to the row. */
function chainVerdict({ record: r, chain }: InferenceView): string {
  return chain === null && r.chain_id ? 'not verified (--no-verify)' : chainLine(chain, 'this row');
}

/** What the Chain section says: from an export, whether the row's hash matches its content there. */
function bundleVerdict(view: BundleInferenceView, manifest: string): string {
  return view.hash_ok
    ? `line ${view.line} of the export: its record_hash matches its content (the links and the file's SHA-256: inferlog verify --bundle ${manifest})`
    : `CHANGED: line ${view.line} of the export does not match its record_hash: the row was changed after it was exported`;
}

/** What its writer's completeness statement said about the period the row was stored in. */
function statedLine(s: StatedPeriod | null): string {
  if (!s) return 'no completeness statement of its writer covers it yet (writers state at an interval; older ones do not)';
  const lost = Object.entries(s.dropped_by_reason)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  return `its writer's statement ${s.n}${s.final ? ` (final, at ${s.final})` : ''}, ${s.from} .. ${s.to}: captured ${s.captured}, written ${s.written}, spilled ${s.spilled}, replayed ${s.replayed}, dropped ${s.dropped}${lost ? ` (${lost})` : ''}`;
}

function render(view: InferenceView | BundleInferenceView, verdict: string, changedEvents: readonly string[] = []): string {
  const { record: r, events, identification } = view;
  const usage = (r.usage ?? null) as Record<string, unknown> | null;
  const lines = [
    `Inference ${r.id}  (request id ${r.request_id})`,
    '',
    'Identity and timing',
    indent(field('started', r.started_at)),
    indent(field('ended', `${r.ended_at}  (latency ${ms(r.latency_ms)})`)),
    indent(
      field(
        'service',
        `${r.service ?? '(not recorded)'}${r.service_version ? ` ${r.service_version}` : ''} on host ${r.host ?? '(not recorded)'}`,
      ),
    ),
    ...(r.trace_id ? [indent(field('trace', `${r.trace_id}${r.span_id ? ` span ${r.span_id}` : ''}`))] : []),
    '',
    'Model',
    indent(field('model', `${r.model_name ?? '-'}${r.model_version ? ` version ${r.model_version}` : ''}`)),
    indent(field('protocol', `${r.protocol}${r.inference_id ? `  (inference id ${r.inference_id})` : ''}`)),
    '',
    'Route and status',
    indent(field('request', `${r.method} ${r.path}${r.route ? `  (route ${r.route})` : ''}`)),
    indent(field('status', `${r.status ?? 'none (no response sent)'}${r.aborted ? '  ABORTED: the client went away first' : ''}`)),
    '',
    'Request',
    indent(field('parameters', present(r.parameters) ? members(r.parameters) : 'none')),
    indent(field('inputs', present(r.inputs) ? tensors(r.inputs) : 'none')),
    ...(present(r.request_body) ? [indent(field('raw body', pretty(r.request_body)))] : []),
    indent(field('body', `${bytes(r.request_bytes)}${r.request_sha256 ? `, sha256 ${r.request_sha256}` : ''}`)),
    '',
    'Response',
    indent(field('outputs', present(r.outputs) ? tensors(r.outputs) : 'none')),
    ...(present(r.response_parameters) ? [indent(field('parameters', members(r.response_parameters)))] : []),
    ...(present(r.response_body) ? [indent(field('raw body', pretty(r.response_body)))] : []),
    indent(field('usage', usage ? members(usage) : 'none')),
    ...(usage && typeof usage.time_to_first_token_ms === 'number'
      ? [indent(field('first token', `after ${ms(usage.time_to_first_token_ms)}`))]
      : []),
    indent(field('error', present(r.error) ? pretty(r.error) : 'none')),
    indent(field('body', `${bytes(r.response_bytes)}${r.response_sha256 ? `, sha256 ${r.response_sha256}` : ''}`)),
    '',
    'Headers',
    indent(field('request', present(r.request_headers) ? members(r.request_headers) : 'none')),
    indent(field('response', present(r.response_headers) ? members(r.response_headers) : 'none')),
    '',
    'Record keeping',
    indent(field('redactions', orNone(r.redactions))),
    indent(field('truncated', orNone(r.truncated))),
    indent(field('schema errors', present(r.schema_errors) ? pretty(r.schema_errors) : 'none')),
    ...(present(r.annotations) ? [indent(field('annotations', members(r.annotations)))] : []),
    '',
    `Oversight events (${events.length})`,
    ...(events.length ? events.map((e) => indent(eventLine(e, changedEvents))) : [indent('none')]),
    '',
    ...(identification
      ? ['Identification (AI Act Art. 12(3), 14(5))', ...identificationLines(identification).map((line) => indent(line)), '']
      : []),
    'Chain',
    indent(field('position', r.chain_id ? `chain ${r.chain_id} seq ${r.chain_seq}, record_hash ${r.record_hash}` : 'none')),
    indent(verdict),
    ...('stated' in view ? [indent(field('stated', statedLine(view.stated)))] : []),
  ];
  return lines.join('\n');
}

/** `inferlog show <id|request-id>`: one inference, reconstructed, with its events and chain verification. */
export const show: CommandModule = (program, ctx) => {
  addLogOptions(
    program
      .command('show')
      .summary('show one inference: request, response, events, and whether its chain verifies up to it')
      .description(
        'Reconstructs an inference from its row, by id or request id: identity and timing, model, route and status, the request ' +
          '(parameters, inputs or raw body), the response (outputs, usage with time to first token, error), headers, redactions, ' +
          'truncation, schema errors, its oversight events (subject = its id or request id), for an identification (annotations.' +
          'identification) its reference database, match and distinct verifiers and whether it passes Art. 12(3)/14(5), and ' +
          'whether its hash chain verifies from the start up to it. Rows that share a request id are all shown. Exits 1 when nothing is found or a chain does not verify. ' +
          'With --bundle FILE.manifest.json: the same from an export, without the database (the inference from its file, its events ' +
          "from FILE.events.jsonl), saying whether each row's record_hash matches its content; exits 1 when one does not.",
      )
      .argument('<id>', "the inference's id (UUID) or its request id")
      .option('--limit <n>', 'most inferences shown when several share the request id', wholeNumber('--limit', 1, 1000), 10)
      .option('--no-verify', 'do not verify the chains (verifying reads each chain from its start)')
      .option('--bundle <manifest>', "read the inference and its events from an export: the export's FILE.manifest.json"),
  ).action(
    act(ctx, async (key: string, opts: ShowOptions) => {
      if (opts.bundle) return showBundle(ctx.io, key, opts.bundle, opts);
      return withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const result = await showInference(log.db, log.schema, log.table, key, { limit: opts.limit, verify: opts.verify });
        const verified = [...result.inferences.map((i) => i.chain), ...result.event_chains].every((c) => !opts.verify || c?.ok);
        if (opts.json) {
          printJson(ctx.io, result);
        } else if (result.total === 0) {
          print(ctx.io, `no inference with id or request id "${key}" in ${log.schema}.${log.table}`);
        } else {
          if (result.total > 1)
            print(
              ctx.io,
              `${result.total} inferences have request id "${key}"${result.total > result.inferences.length ? `; the first ${result.inferences.length} are shown (--limit)` : ''}.\n`,
            );
          print(ctx.io, result.inferences.map((view) => render(view, chainVerdict(view))).join(SEPARATOR));
          if (result.event_chains.length) {
            print(ctx.io, '');
            print(ctx.io, 'Event chains');
            for (const c of result.event_chains) print(ctx.io, indent(chainLine(c, 'the event')));
          }
        }
        if (!opts.json && result.dropped.length > 0) {
          print(ctx.io, '');
          print(
            ctx.io,
            `DROPPED: its writer's completeness statements name ${result.dropped.length === 1 ? 'a record' : `${result.dropped.length} records`} under "${key}" as answered but not stored:`,
          );
          for (const d of result.dropped)
            print(
              ctx.io,
              indent(
                `${d.at}  request ${d.request_id}  record ${d.id}: ${DROP_REASONS[d.reason] ?? d.reason} (writer chain ${d.chain_id}, statement ${d.statement})`,
              ),
            );
        }
        return result.total === 0 || !verified ? EXIT.failed : EXIT.ok;
      });
    }),
  );
};

const DROP_REASONS: Record<string, string> = {
  overflow: 'dropped by the overflow policy (queue and spill journal full)',
  refused: 'refused by PostgreSQL even without its payload',
  after_close: 'its request finished after close()',
  close_deadline: 'neither written nor journaled by the close() deadline',
  capture_failed: 'capturing it failed in the middleware',
  writer_failed: 'the writer thread died holding it in memory only',
};

const SEPARATOR = `\n\n${'─'.repeat(80)}\n\n`;

/** `inferlog show <id> --bundle FILE.manifest.json`: the inference and its events from an export. */
async function showBundle(io: CliIo, key: string, manifest: string, opts: ShowOptions): Promise<number> {
  const result = await showFromBundle(manifest, key, { limit: opts.limit });
  const intact = result.inferences.every((i) => i.hash_ok && i.events_changed.length === 0);
  if (opts.json) {
    printJson(io, result);
  } else if (result.total === 0) {
    print(io, `no inference with id or request id "${key}" in the export ${manifest}`);
  } else {
    if (result.total > 1)
      print(
        io,
        `${result.total} inferences of the export have request id "${key}"${result.total > result.inferences.length ? `; the first ${result.inferences.length} are shown (--limit)` : ''}.\n`,
      );
    if (!result.has_events) print(io, 'This export has no events file (manifest_version 1): its oversight events are not shown.\n');
    print(io, result.inferences.map((view) => render(view, bundleVerdict(view, manifest), view.events_changed)).join(SEPARATOR));
  }
  return result.total === 0 || !intact ? EXIT.failed : EXIT.ok;
}
