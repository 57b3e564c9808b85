import { InferlogConfigError } from '../errors';
import type { Database } from '../sink/pgp';
import { VERSION } from '../version';
import { inSnapshot, type Snapshot } from './cursor';
import { exportLogIn } from './export';
import { readManifestAndDigest } from './manifest';
import { loggedIn, type LoggedSection } from './report-logged';
import { oversightIn, type OversightSection } from './report-oversight';
import { retentionIn, type RetentionSection } from './report-retention';
import { verifyLogIn, type ChainProblem, type ChainSummary } from './verify';
import { logCompleteness, type CompletenessReport } from './completeness';
import { checkIdentifications, countIdentifications, type IdentificationCounts, type IdentificationFinding } from './identification';

export type { Breakdown, LoggedFigures, LoggedSection, ModelFigures, ValueCount } from './report-logged';
export type { EventCount, EventDay, OversightSection } from './report-oversight';
export type { AuditEntry, HoldSection, RetentionSection } from './report-retention';

/** Options of `evidenceReport`. */
export interface EvidenceReportOptions {
  /** The period's start: records that started at or after it, events recorded at or after it. */
  since: Date;
  /** The period's end (exclusive). */
  until: Date;
  /**
   * Also export the period's records (JSONL) to this file, with `FILE.events.jsonl` and `FILE.manifest.json`,
   * read in the report's snapshot: the report then carries the manifest's SHA-256, and the export holds the
   * rows the report counts.
   */
  exportTo?: string;
  /** Verification problems listed at most (the first is where tampering starts). Default 20. */
  maxProblems?: number;
  /** Stops the export (Ctrl-C): the report rejects and the partial files are removed. */
  signal?: AbortSignal;
}

/** The verification of the whole log (every chain of records and events) as the report saw it. */
export interface VerificationSection {
  /** Always the whole log: chains run across periods, so the rows of one period verify only with those before them. */
  scope: 'whole log';
  ok: boolean;
  /** Rows checked (records and events). */
  rows: number;
  /** Per chain: rows, sequence, recorded head, whether its head is signed, who registered it. */
  chains: ChainSummary[];
  /** The first problems found, in chain and sequence order. */
  problems: ChainProblem[];
  /** True when there were more problems than `problems` lists. */
  more_problems: boolean;
}

/** The identifications of the period and the first of those that fail the check of `checkIdentifications`. */
export interface IdentificationsSection extends IdentificationCounts {
  /** The first failing ones, oldest first (`inferlog query --failing-identifications` lists them all). */
  first_failing: IdentificationFinding[];
}

/** Failing identifications the report names. */
const IDENTIFICATIONS_LISTED = 50;

async function identificationsIn(
  t: Snapshot,
  schema: string,
  table: string,
  since: Date,
  until: Date,
): Promise<IdentificationsSection | null> {
  const counts = await countIdentifications(t, schema, table, { since, until });
  if (counts.total === 0) return null;
  const failing = counts.failing
    ? (await checkIdentifications(t, schema, table, { since, until }, { limit: IDENTIFICATIONS_LISTED })).rows
    : [];
  return { ...counts, first_failing: failing };
}

/** The export made with the report: the bundle the report anchors, and that anchors the report. */
export interface ExportSection {
  /** The records file (JSONL) as given, and the events file and manifest beside it. */
  file: string;
  events_file: string;
  manifest_file: string;
  /** SHA-256 (hex) of the manifest file's bytes: what `verify --bundle` prints and a recipient compares. */
  manifest_sha256: string;
  records: number;
  records_sha256: string;
  events: number;
  events_sha256: string;
}

/**
 * An evidence report: what a log held for a period, read in one snapshot. Each section is a field of its
 * own, rendered by a section of its own (report-html.ts), so a new section is a field here, the function
 * that gathers it, and one entry in the HTML's section list.
 */
export interface EvidenceReport {
  report_version: 1;
  /** The moment the report's snapshot was taken (ISO 8601 UTC): every figure is as of then. */
  generated_at: string;
  inferlog_version: string;
  /** Where the log is: the database's name and server version, schema and table. */
  source: { database: string; server_version: string; schema: string; table: string };
  /** The period, ISO 8601 UTC; `until` is exclusive. */
  period: { since: string; until: string };
  logged: LoggedSection;
  /** What the writers' completeness statements say about the period: per writer what it stored and lost, and who fell silent. */
  completeness: CompletenessReport;
  /** Remote biometric identifications among the period's inferences (AI Act Art. 12(3), 14(5)); null when there are none. */
  identifications: IdentificationsSection | null;
  retention: RetentionSection;
  oversight: OversightSection;
  verification: VerificationSection;
  /** Null when no export was asked for. */
  export: ExportSection | null;
}

async function verificationIn(t: Snapshot, schema: string, table: string, max: number): Promise<VerificationSection> {
  // One more than listed, to know whether there were more.
  const report = await verifyLogIn(t, schema, table, { maxProblems: max + 1 });
  return {
    scope: 'whole log',
    ok: report.ok,
    rows: report.rows,
    chains: report.chains,
    problems: report.problems.slice(0, max),
    more_problems: report.problems.length > max,
  };
}

async function exportIn(t: Snapshot, schema: string, table: string, options: EvidenceReportOptions, out: string): Promise<ExportSection> {
  const result = await exportLogIn(t, schema, table, {
    format: 'jsonl',
    out,
    filter: { since: options.since, until: options.until },
    signal: options.signal,
  });
  const { sha256 } = await readManifestAndDigest(result.manifestPath);
  const m = result.manifest;
  return {
    file: result.file,
    events_file: result.eventsFile,
    manifest_file: result.manifestPath,
    manifest_sha256: sha256,
    records: m.rows,
    records_sha256: m.sha256,
    events: m.events!.rows,
    events_sha256: m.events!.sha256,
  };
}

function checkPeriod({ since, until }: EvidenceReportOptions): void {
  for (const [name, value] of [
    ['since', since],
    ['until', until],
  ] as const)
    if (!(value instanceof Date) || Number.isNaN(value.getTime()))
      throw new InferlogConfigError(`evidence report option ${name} must be a valid Date, got ${String(value)}`);
  if (since.getTime() >= until.getTime())
    throw new InferlogConfigError(
      `the report's period is empty: since (${since.toISOString()}) must be before until (${until.toISOString()})`,
    );
}

/**
 * Gathers an evidence report of a log table for the period [since, until): what was logged (totals, per
 * model, per day and model, protocols, routes, status classes), retention and legal holds, oversight
 * activity, the verification of the whole log and, with `exportTo`, an export of the period. Everything
 * is read in one REPEATABLE READ snapshot, so the figures, the verification and the export describe the
 * same rows even while writers go on. The aggregates read only the period's partitions; verification
 * reads the whole log once (as `verifyLog`), which is most of the time on a large log.
 */
export async function evidenceReport(db: Database, schema: string, table: string, options: EvidenceReportOptions): Promise<EvidenceReport> {
  checkPeriod(options);
  const { since, until } = options;
  const max = options.maxProblems ?? 20;
  return inSnapshot(db, async (t) => {
    const now = await t.one("SELECT now() AS at, current_database() AS database, current_setting('server_version') AS server_version");
    const logged = await loggedIn(t, schema, table, since, until);
    const completeness = await logCompleteness(t, schema, table, { since, until });
    const identifications = await identificationsIn(t, schema, table, since, until);
    const retention = await retentionIn(t, schema, table, since, until);
    const oversight = await oversightIn(t, schema, table, since, until);
    const verification = await verificationIn(t, schema, table, max);
    const exported = options.exportTo ? await exportIn(t, schema, table, options, options.exportTo) : null;
    return {
      report_version: 1,
      generated_at: (now.at as Date).toISOString(),
      inferlog_version: VERSION,
      source: { database: now.database, server_version: now.server_version, schema, table },
      period: { since: since.toISOString(), until: until.toISOString() },
      logged,
      completeness,
      identifications,
      retention,
      oversight,
      verification,
      export: exported,
    };
  });
}
