import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  checkSchemaName,
  checkTableName,
  parseAnnotation,
  parseDuration,
  parseInstant,
  parseStatus,
  type AnnotationMatch,
  type RecordFilter,
  type StatusMatch,
} from '@inferlog/core/audit';
import type { LogOptions } from './database';

/** Turns a core parse error into commander's, which names the option and exits with usage. */
export function parser<T>(parse: (value: string, name: string) => T, name: string): (value: string) => T {
  return (value) => {
    try {
      return parse(value, name);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message.replace(/^inferlog: /, ''));
    }
  };
}

/** A whole number from `min` to `max`. */
export function wholeNumber(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A duration in milliseconds (`500ms`, `2s`, `1m`), at least `min`. */
export function duration(name: string, min = 0): (value: string) => number {
  const parse = parser(parseDuration, name);
  return (value) => {
    const ms = parse(value);
    if (ms < min) throw new InvalidArgumentError(`${name} must be at least ${min} ms`);
    return ms;
  };
}

/** `--database`, `--embedded-dir`, `--schema`, `--table`, `--json`: every command takes them. */
export function addLogOptions(command: Command): Command {
  return command
    .option('--database <url>', 'PostgreSQL connection string (default: $DATABASE_URL, else the embedded store)')
    .option('--embedded-dir <dir>', 'directory of the embedded store, used when there is no database URL', './.inferlog/pgdata')
    .addOption(new Option('--schema <name>', 'schema of the log tables').default('inferlog').argParser(parser(checkSchemaName, '--schema')))
    .addOption(new Option('--table <name>', 'name of the log table').default('inference_log').argParser(parser(checkTableName, '--table')))
    .option('--json', 'machine-readable JSON on stdout instead of text');
}

/** The log options of a command's parsed options. */
export function logOptionsOf(opts: CommonOptions): LogOptions {
  return { database: opts.database, embeddedDir: opts.embeddedDir, schema: opts.schema, table: opts.table };
}

export interface CommonOptions {
  database?: string;
  embeddedDir: string;
  schema: string;
  table: string;
  json?: boolean;
}

/** `--since` and `--until`: the period, as instants (ISO 8601 or a time ago). */
export function addPeriodOptions(command: Command, { requiredSince = false, untilDefault = '' } = {}): Command {
  const since = new Option(
    '--since <time>',
    'records that started at or after: ISO 8601 (2026-05-01, 2026-05-01T12:00Z) or a time ago (30m, 24h, 7d)',
  ).argParser(parser(parseInstant, '--since'));
  const until = new Option(
    '--until <time>',
    `records that started before: ISO 8601 or a time ago${untilDefault ? ` (default: ${untilDefault})` : ''}`,
  ).argParser(parser(parseInstant, '--until'));
  if (requiredSince) since.makeOptionMandatory();
  return command.addOption(since).addOption(until);
}

/** The record filters: `--since`, `--until`, `--model`, `--version`, `--route`, `--status`, `--protocol`, `--annotation`. */
export function addFilterOptions(command: Command, period: { requiredSince?: boolean; untilDefault?: string } = {}): Command {
  return addPeriodOptions(command, period)
    .option('--model <name>', 'model_name equals')
    .option('--version <version>', 'model_version equals')
    .option('--route <pattern>', 'route equals (the matched pattern, e.g. /v2/models/:model/infer)')
    .addOption(
      new Option('--status <codes>', 'status: codes (500), classes (4xx, 5xx) or none (no response), comma-separated').argParser(
        parser(parseStatus, '--status'),
      ),
    )
    .option('--protocol <name>', 'protocol equals (oip-v2, kserve-v1, openai-chat, raw, …)')
    .addOption(
      new Option(
        '--annotation <key=value>',
        'annotations contain key=value (repeatable; the value is JSON when it parses: tier=3, else text: tenant=acme)',
      ).argParser((value: string, previous: AnnotationMatch[] | undefined) => [
        ...(previous ?? []),
        parser(parseAnnotation, '--annotation')(value),
      ]),
    );
}

export interface FilterOptions {
  since?: Date;
  until?: Date;
  model?: string;
  version?: string;
  route?: string;
  status?: StatusMatch[];
  protocol?: string;
  annotation?: AnnotationMatch[];
}

/** The record filter of a command's parsed options. */
export function filterOf(opts: FilterOptions): RecordFilter {
  const filter: RecordFilter = {};
  if (opts.since) filter.since = opts.since;
  if (opts.until) filter.until = opts.until;
  if (opts.model !== undefined) filter.model = opts.model;
  if (opts.version !== undefined) filter.version = opts.version;
  if (opts.route !== undefined) filter.route = opts.route;
  if (opts.status) filter.status = opts.status;
  if (opts.protocol !== undefined) filter.protocol = opts.protocol;
  if (opts.annotation?.length) filter.annotations = opts.annotation;
  return filter;
}
