import { dirname } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import {
  compareWithManifest,
  manifestOfChain,
  parseInstant,
  readManifest,
  verifyBundle,
  verifyLog,
  type AnchorReport,
  type BundleChainSummary,
  type BundleReport,
  type ChainSummary,
  type VerifyReport,
} from '@inferlog/core/audit';
import { renderCompleteness } from '../completeness';
import { act, type CommandModule } from '../context';
import { withLog } from '../database';
import { CliError, EXIT } from '../errors';
import { addLogOptions, logOptionsOf, parser, wholeNumber, type CommonOptions } from '../options';
import { bytes, count, print, printJson, table } from '../output';

interface VerifyOptions extends CommonOptions {
  chain?: string;
  bundle?: string;
  against?: string;
  maxProblems: number;
  complete?: boolean;
  since?: Date;
  until?: Date;
}

const range = (first: number | null, last: number | null) => (first === null ? '-' : `${first}..${last ?? first}`);

function problems(list: readonly { message: string }[], ok: boolean, total: string): string[] {
  if (ok) return [];
  const [first, ...rest] = list;
  return [
    '',
    `FIRST PROBLEM: ${first?.message ?? 'unknown'}`,
    ...(rest.length ? ['', `${rest.length} more:`, ...rest.map((p) => `  - ${p.message}`)] : []),
    '',
    `FAILED: ${total}`,
  ];
}

function signature(c: ChainSummary): string {
  if (!c.head) return '-';
  if (c.signed) return 'signed';
  return c.origin === null && c.ok ? 'unsigned (legacy)' : 'NOT SIGNED';
}

/** Where each chain was registered from, as the server saw it (the writer's own claim of host and pid is not shown). */
function origins(chains: readonly ChainSummary[]): string[] {
  const known = chains.filter((c) => c.origin);
  if (known.length === 0) return [];
  return [
    '',
    'Registered (as the server saw it):',
    ...known.map(
      ({ chain_id, origin: o }) =>
        `  ${chain_id}: by ${o!.registered_by} from ${o!.client_addr ?? 'a local socket'} at ${o!.registered_at}, session started ${o!.backend_start ?? 'unknown'}`,
    ),
  ];
}

function renderLog(report: VerifyReport, place: string, scope?: string): string {
  const lines = [
    `${place}: ${count(report.rows)} rows in ${report.chains.length} chain${report.chains.length === 1 ? '' : 's'}`,
    '',
    report.chains.length === 0
      ? '(no rows)'
      : table(report.chains, [
          { header: 'table', value: (c) => c.table },
          { header: 'chain', value: (c) => c.chain_id },
          { header: 'rows', value: (c) => count(c.rows), right: true },
          { header: 'seq', value: (c) => range(c.first_seq, c.last_seq) },
          { header: 'recorded head', value: (c) => (c.head ? String(c.head.seq) : 'unregistered') },
          { header: 'head signature', value: signature },
          { header: 'registered by', value: (c) => (c.origin ? `${c.origin.registered_by}@${c.origin.client_addr ?? 'local'}` : '-') },
          { header: 'ok', value: (c) => (c.ok ? 'ok' : 'FAILED') },
        ]),
    ...origins(report.chains),
  ];
  lines.push(
    ...problems(
      report.problems,
      report.ok,
      `${report.problems.length}${report.problems.length >= 100 ? '+' : ''} problem${report.problems.length === 1 ? '' : 's'}`,
    ),
  );
  if (report.ok) {
    const unsigned = report.chains.filter((c) => c.head && !c.signed).length;
    lines.push(
      '',
      `OK: every row matches its hash and follows the one before it; every chain reaches its recorded head, ${unsigned === 0 ? "signed by its writer's key" : `signed by its writer's key but for ${unsigned} registered before chain keys (unsigned)`}`,
    );
  }
  if (report.completeness) lines.push(...renderCompleteness(report.completeness, scope ?? 'the whole log'));
  return lines.join('\n');
}

const BUNDLE_CHAIN_COLUMNS: Parameters<typeof table<BundleChainSummary>>[1] = [
  { header: 'chain', value: (c) => c.chain_id ?? '(none)' },
  { header: 'rows', value: (c) => count(c.rows), right: true },
  { header: 'seq', value: (c) => range(c.first_seq, c.last_seq) },
  { header: 'last hash', value: (c) => c.last_hash ?? '-', max: 64 },
  { header: 'head', value: (c) => (c.chain_id === null ? '-' : c.signed ? 'signed' : 'unsigned') },
  { header: 'ok', value: (c) => (c.ok ? 'ok' : 'FAILED') },
];

/** What the recipient should know though the export passes: unsigned chains, what was not checked, the manifest's own digest. */
function bundleNotes(report: BundleReport): string[] {
  const chains = [...report.chains, ...(report.events?.chains ?? [])];
  const unsigned = report.events ? chains.filter((c) => c.chain_id !== null && !c.signed && c.ok).length : 0;
  return [
    '',
    `manifest sha256 ${report.manifest_sha256}: compare it with the digest recorded when the export was handed over (a manifest rewritten whole, keys and all, cannot be told offline)`,
    ...(unsigned
      ? [
          `${unsigned} chain${unsigned === 1 ? '' : 's'} unsigned (registered before chain keys): nothing but the manifest vouches for ${unsigned === 1 ? 'its head' : 'their heads'}`,
        ]
      : []),
    ...report.warnings.map((w) => `WARNING: ${w}`),
  ];
}

function renderBundle(report: BundleReport): string {
  const m = report.manifest;
  const lines = [
    `${report.file}: ${m.format}, ${count(report.rows)} rows, ${bytes(report.bytes)}, sha256 ${report.sha256}`,
    `exported ${m.exported_at} from ${m.source.schema}.${m.source.table} by inferlog ${m.inferlog_version}; filters ${JSON.stringify(m.filters)}`,
    '',
    table(report.chains, BUNDLE_CHAIN_COLUMNS),
  ];
  const events = report.events;
  if (events)
    lines.push(
      '',
      `${events.file}: ${count(events.rows)} oversight events, ${bytes(events.bytes)}, sha256 ${events.sha256}`,
      ...(events.chains.length ? ['', table(events.chains, BUNDLE_CHAIN_COLUMNS)] : []),
    );
  else lines.push('', 'no events file: the manifest is of version 1, from before exports carried oversight events');
  lines.push(...bundleNotes(report));
  lines.push(
    ...problems(
      report.problems,
      report.ok,
      `the export does not match its manifest (${report.problems.length} problem${report.problems.length === 1 ? '' : 's'})`,
    ),
  );
  if (report.ok)
    lines.push(
      '',
      `OK: size and SHA-256 match the manifest; every row matches its record_hash; chains link and end at the heads the manifest records${report.events ? ' (records and events)' : ''}`,
    );
  return lines.join('\n');
}

function renderAnchors(report: AnchorReport, manifest: string): string {
  const what =
    report.compared === 'rows'
      ? `${count(report.checked)} exported rows compared with the database`
      : `only the first and last row of each chain compared (${count(report.checked)} comparisons): ${report.ends_only_because}`;
  const lines = [`Compared with ${manifest}: ${what}${report.dropped ? `, ${count(report.dropped)} dropped by retention since` : ''}`];
  lines.push(
    ...problems(
      report.problems,
      report.ok,
      `the database no longer holds what that export recorded (${report.problems.length} problem${report.problems.length === 1 ? '' : 's'})`,
    ),
  );
  if (report.ok)
    lines.push(
      `OK: the database still holds ${report.compared === 'rows' ? 'every row of that export, as exported, but for records whose month retention has dropped' : 'the first and last row of every chain as that export recorded them'} (records and events), and every chain it recorded is still registered as it was`,
    );
  return lines.join('\n');
}

/** The completeness report's period, as the text names it. */
const scopeOf = (opts: VerifyOptions) =>
  opts.since || opts.until ? `${opts.since?.toISOString() ?? 'the start'} .. ${opts.until?.toISOString() ?? 'now'}` : undefined;

/** With --complete, a log with stated losses, a silent writer or one that does not state fails too. */
const completeEnough = (report: VerifyReport, opts: VerifyOptions) => !opts.complete || (report.completeness?.complete ?? true);

/** `inferlog verify`: recomputes the hash chains of the database, or checks an export offline. */
export const verify: CommandModule = (program, ctx) => {
  addLogOptions(
    program
      .command('verify')
      .summary('recompute the hash chains and name the first row changed, removed or inserted; or check an export (--bundle)')
      .description(
        'Without --bundle: reads every row of the log and its events in one snapshot and recomputes each chain: every row must ' +
          'match its record_hash and follow the row before it, and every chain must reach the head its writer recorded. Prints a ' +
          'summary per chain and every problem, the first (where tampering starts) first. ' +
          "With --bundle FILE.manifest.json: checks an export without the database: each file's size and SHA-256 (records and " +
          "FILE.events.jsonl), every line (valid UTF-8, canonical, with its line break), every row's record_hash, the links between " +
          "rows, and each chain's head against the manifest and the signature its writer made of it; prints the manifest's own " +
          'SHA-256 (to compare with the one recorded at the handover), unsigned chains and what a version 1 manifest leaves unchecked. ' +
          'With --against FILE.manifest.json: also compares the database with that earlier export (every row of its files beside ' +
          "the manifest, records and events, by chain and seq and record_hash, and every chain's registration; only each chain's first " +
          'and last row when the files are not there), which shows rows deleted (even behind a gap written by hand), a chain ' +
          'rewritten, head and all, since, or deleted whole with its registration. ' +
          "Without --chain it also reports the log's completeness, from the statements each writer stores every interval and at " +
          'close: per writer what it captured, wrote, spilled, replayed and dropped (why, and which requests), and every writer ' +
          'that fell silent without a final statement (killed, crashed), with the window in which its records may be lost. ' +
          'Exits 1 on any problem (and, with --complete, when the log is incomplete).',
      )
      .option('--chain <id>', 'only this chain (its UUID)', (value: string) => {
        if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
          throw new InvalidArgumentError('--chain takes a chain id (a UUID, as verify and show print it)');
        return value.toLowerCase();
      })
      .addOption(new Option('--bundle <manifest>', "check an export offline: the export's FILE.manifest.json").conflicts('against'))
      .option('--against <manifest>', "also compare the database with an earlier export's FILE.manifest.json (kept outside the database)")
      .option('--max-problems <n>', 'problems listed at most', wholeNumber('--max-problems', 1, 1_000_000), 100)
      .addOption(
        new Option(
          '--since <time>',
          "the completeness report's period starts: losses stated and silences begun since (ISO 8601 or a time ago: 25h); the chains are verified whole",
        ).argParser(parser(parseInstant, '--since')),
      )
      .addOption(
        new Option('--until <time>', "the completeness report's period ends (ISO 8601 or a time ago)").argParser(
          parser(parseInstant, '--until'),
        ),
      )
      .option(
        '--complete',
        'also exit 1 when the log is intact but incomplete: its writers stated lost records, one fell silent without a final statement, or one predates statements',
      ),
  ).action(
    act(ctx, async (opts: VerifyOptions) => {
      if (opts.bundle) {
        const report = await verifyBundle(opts.bundle, { maxProblems: opts.maxProblems });
        opts.json ? printJson(ctx.io, report) : print(ctx.io, renderBundle(report));
        return report.ok ? EXIT.ok : EXIT.failed;
      }
      return withLog(logOptionsOf(opts), ctx.io, async (log) => {
        const manifest = opts.against ? await readManifest(opts.against) : null;
        const period = { ...(opts.since ? { since: opts.since } : {}), ...(opts.until ? { until: opts.until } : {}) };
        const report = await verifyLog(log.db, log.schema, log.table, {
          chain: opts.chain,
          maxProblems: opts.maxProblems,
          completeness: period,
        });
        if (opts.chain && report.rows === 0)
          throw new CliError(
            `chain ${opts.chain} has no rows in ${log.schema}.${log.table}: nothing to verify (check the id with "inferlog verify" without --chain)`,
            EXIT.failed,
          );
        if (manifest) {
          const scope = opts.chain ? manifestOfChain(manifest, opts.chain) : manifest;
          const against = await compareWithManifest(log.db, log.schema, log.table, scope, {
            dir: dirname(opts.against!),
            maxProblems: opts.maxProblems,
          });
          if (opts.json) printJson(ctx.io, { ...report, against });
          else
            print(
              ctx.io,
              `${renderLog(report, `${log.schema}.${log.table} at ${log.where}`, scopeOf(opts))}\n\n${renderAnchors(against, opts.against!)}`,
            );
          return report.ok && against.ok && completeEnough(report, opts) ? EXIT.ok : EXIT.failed;
        }
        opts.json
          ? printJson(ctx.io, report)
          : print(ctx.io, renderLog(report, `${log.schema}.${log.table} at ${log.where}`, scopeOf(opts)));
        return report.ok && completeEnough(report, opts) ? EXIT.ok : EXIT.failed;
      });
    }),
  );
};
