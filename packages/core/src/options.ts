import { hostname } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { InferlogConfigError, type InferlogError } from './errors';
import { DEFAULT_STATEMENT_INTERVAL_MS } from './chain/chain';
import { PROTOCOL_NAMES } from './protocol';
import { DEFAULT_REQUEST_HEADERS, DEFAULT_RESPONSE_HEADERS, isSecretHeader } from './record/headers';
import { derivedKey } from './redact/actions';
import { Redactor } from './redact/redactor';
import { compileRule, type CompiledRule, type RedactRule } from './redact/rules';
import { compileRoute, DEFAULT_ROUTES, RouteSelector, type CompiledRoute, type RouteSpec } from './routes';
import { checkSchemaName, checkTableName } from './sink/names';
import { loadEmbedded } from './sink/embedded';

/** A `pg` connection config, passed to pg-promise as it is (`host`, `port`, `user`, `password`, `database`, `ssl`, …). */
export interface PgConnectionConfig {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: unknown;
  [setting: string]: unknown;
}

/** When the queue is written to PostgreSQL. A flush starts at whichever limit is reached first. */
export interface BatchOptions {
  /** Most rows per write (one COPY or INSERT, one transaction). Default 2000. Records are made and journaled 500 at a time at most; a write joins those staged batches up to this (without the write-ahead journal, a write takes at most 500). */
  maxRows?: number;
  /** Bytes of captured bodies per write. Default 4 MiB. */
  maxBytes?: number;
  /** Longest time a record waits in the queue before a flush, in ms. Default 50 (short waits keep captured bodies out of the old GC generation). */
  flushIntervalMs?: number;
}

/** Which headers are stored. Credentials (`authorization`, cookies, `*-key`, `*-token`, `*-secret`) never are. */
export interface HeaderOptions {
  /** Request header names to store (case-insensitive). Default: content-type, content-length, content-encoding, accept, accept-encoding, user-agent, x-request-id, traceparent, tracestate. */
  request?: string[];
  /** Response header names to store. Default: content-type, content-length, content-encoding, transfer-encoding, x-request-id. */
  response?: string[];
}

/** Options of `inferenceLog()` (Express and Koa) and `createInferenceLogger()`. Unknown options throw. */
export interface InferenceLogOptions {
  /**
   * Where records are stored: a PostgreSQL connection string, a `pg` connection config, or `'embedded'`
   * for the embedded PGlite store in `embeddedDir`. Default: `DATABASE_URL`; if that is unset, the embedded
   * store, except when `NODE_ENV` is `production`, where a missing database is a start-up error.
   */
  database?: string | PgConnectionConfig;
  /** PostgreSQL schema of the log tables. Default `inferlog`. */
  schema?: string;
  /** Name of the inference log table. Default `inference_log`. */
  table?: string;
  /** Apply the migrations (and create partitions ahead) on start. Default true; set false when `inferlog migrate` runs at deploy time. */
  migrate?: boolean;
  /** Monthly partitions created ahead of the current month. Default 2. */
  partitionsAhead?: number;
  /** Most connections the logger opens. Default 2 (1 for the embedded store). */
  poolSize?: number;
  /**
   * Deadline of every round trip to the database (connect, query, COPY of a batch), in ms. Past it the
   * connection is dropped and the write fails like a refused one: retried, and spilled to the journal once
   * writes have failed for `spillAfterMs`. Default 10 000.
   */
  databaseTimeoutMs?: number;
  /** Directory of the embedded store. Default `./.inferlog/pgdata`. */
  embeddedDir?: string;
  /**
   * Build and write records in a worker thread (default `true`), so that decoding, mapping, redaction,
   * hashing and the database's I/O cost the request path nothing. Options that cannot cross to a thread
   * keep the writer in this one, as `false` does: a mapper function as a route's `protocol`, a `database`
   * config holding functions, or the embedded store (owned by this thread). `onError`, `onDrop` and route
   * predicates always run in this thread.
   */
  worker?: boolean;
  /** Routes to log. Default: OIP v2 `/v2/models/:model[/versions/:version]/infer`, KServe v1 `:predict`/`:explain`, OpenAI `/v1/chat/completions`, `/v1/completions`, `/v1/embeddings` (POST). */
  routes?: RouteSpec[];
  /** Routes never logged, checked before `routes`. Default none. */
  exclude?: RouteSpec[];
  /** Fraction (0..1) of selected requests to log. Default 1. */
  sample?: number;
  /** Header carrying the caller's request id, echoed back in the response; `false` to neither read nor echo one. Default `x-request-id`. */
  requestIdHeader?: string | false;
  /** Header allow-lists. */
  headers?: HeaderOptions;
  /** Bytes of each body kept; the rest is cut (noted in `truncated`) while size and SHA-256 cover the whole body. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Flush limits. */
  batch?: BatchOptions;
  /** Bytes of captured bodies the queue holds before new records are dropped (and counted). Default 64 MiB. */
  maxQueueBytes?: number;
  /** Name of the deployment stored in `service`. Default: `npm_package_name`, else null. */
  service?: string;
  /** Version stored in `service_version`. Default: `npm_package_version`, else null. */
  serviceVersion?: string;
  /** Host stored in `host`. Default: `os.hostname()`. */
  host?: string;
  /**
   * Receives every failure (never thrown into the app). Default: printed to stderr, at most once a minute
   * per kind. Messages pass the redaction detectors of every route and name records by id and stored
   * (redacted) request id; an error the app's code threw is never attached as `cause`.
   */
  onError?: (error: InferlogError) => void;
  /**
   * Directory of the spill journal: batches go there (appended, fsynced) when the database stays
   * unreachable or the queue passes three quarters of `maxQueueBytes`, and are replayed when it is back
   * (also by the next process after a crash). `false` keeps records in memory only. Default `./.inferlog/spill`.
   */
  spillDir?: string | false;
  /** Bytes the spill journal may hold before the overflow policy applies. Default 1 GiB. */
  maxSpillBytes?: number;
  /**
   * A journal in `spillDir` that nobody has touched for this long, in ms, belongs to a process that is
   * gone and is taken over and replayed. Each process touches its own journal every quarter of this, so
   * processes sharing the directory (also across containers or hosts) must use the same value. Default
   * 60000.
   */
  spillStaleMs?: number;
  /** How long writes may keep failing before batches are spilled to disk, in ms. Default 1000. */
  spillAfterMs?: number;
  /**
   * Append every batch to a write-ahead journal in `spillDir` before it is sent to the database, and
   * forget it once stored. A process that is killed (SIGKILL, out of memory, a crash) then loses only
   * the records of its last `batch.flushIntervalMs`; the next process on the same `spillDir` replays the
   * rest. `false` keeps batches in memory until they are stored or spilled (a kill loses all of them).
   * Needs `spillDir`. Default `true`.
   */
  writeAhead?: boolean;
  /**
   * How often the write-ahead journal is forced to disk (fdatasync), in ms: a machine crash or power
   * loss loses at most the records of this long plus `batch.flushIntervalMs`. `0` forces every batch to
   * disk before it is sent (a crash loses only the last flush interval; each batch waits for the disk).
   * A process kill loses nothing written, synced or not. Default 1000.
   */
  writeAheadSyncMs?: number;
  /**
   * How often the writer stores a completeness statement in the log, in ms: what it captured, wrote,
   * spilled, replayed and dropped (with the reasons and the dropped requests' ids) since its previous
   * statement, signed with its chain's key; and a final one at `close()`. `inferlog verify` names every
   * loss they state and every writer that stopped stating without a final one (killed, crashed), with
   * the window in which its records may have been lost: a shorter interval narrows that window. Writers
   * cannot opt out: an audit log must say where it is incomplete. Default 60000 (one small row a minute).
   */
  statementIntervalMs?: number;
  /**
   * What happens when neither the database nor the journal keeps up and the queue reaches
   * `maxQueueBytes`: `wait` (the default: new selected requests wait at the middleware until the queue
   * has room, so the API slows to what the log can take and no record is lost; one that waits longer than
   * `overflowWaitMs` is answered 503 unserved), `fail-closed` (selected requests are answered 503 at
   * once), `drop-newest` (the new record is dropped) or `drop-oldest` (the oldest queued records make
   * room). Drops are counted and sent to `onDrop`.
   */
  overflow?: OverflowPolicy;
  /** Under `overflow: 'wait'`, how long a request may wait for room in the queue before it is answered 503, in ms. Default 30 000. */
  overflowWaitMs?: number;
  /** Called with the number of records dropped and why, for every drop. */
  onDrop?: (count: number, reason: string) => void;
  /**
   * Redaction rules for every route (a route rule's own `redact` adds to them): JSONPaths, tensor names
   * or personal-data detectors, each with an action (`remove`, `mask`, `hash`, `truncate`). Compiled at
   * start; a rule that does not parse throws. Applied before the record leaves memory. Default none.
   */
  redact?: RedactRule[];
  /**
   * Key of the `hash` action's pseudonyms and of `bodyDigest: 'hmac'`: a string or Buffer of at least 16
   * bytes, kept secret (whoever has it can test guesses). Default: `INFERLOG_HMAC_KEY`.
   */
  hmacKey?: string | Buffer;
  /**
   * What `request_sha256`/`response_sha256` hold, always over the original body (before redaction):
   * `sha256` (anyone can check a body they have against it, and test guesses of small bodies), `hmac`
   * (`hmac:` + HMAC-SHA-256 with a key derived from `hmacKey`: only key holders can), or `none`.
   * Default: `hmac` when `hmacKey` (or INFERLOG_HMAC_KEY) is set; else `none` when any route has redaction
   * rules (a plain digest of a body that is just a BSN, or an OIP request differing only in it, gives the
   * value away to anyone who tries every one), else `sha256`.
   */
  bodyDigest?: BodyDigest;
}

/** See the `bodyDigest` option. */
export type BodyDigest = 'sha256' | 'hmac' | 'none';
const BODY_DIGESTS: readonly BodyDigest[] = ['sha256', 'hmac', 'none'];

/** See the `overflow` option. */
export type OverflowPolicy = 'wait' | 'fail-closed' | 'drop-newest' | 'drop-oldest';
const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['wait', 'fail-closed', 'drop-newest', 'drop-oldest'];

/** Options after validation and defaults: what the rest of core reads. */
export interface ResolvedOptions {
  database: string | PgConnectionConfig | 'embedded';
  schema: string;
  table: string;
  migrate: boolean;
  partitionsAhead: number;
  poolSize: number;
  databaseTimeoutMs: number;
  embeddedDir: string;
  selector: RouteSelector;
  requestIdHeader: string | null;
  requestHeaders: ReadonlySet<string>;
  responseHeaders: ReadonlySet<string>;
  maxBodyBytes: number;
  batch: Required<BatchOptions>;
  maxQueueBytes: number;
  service: string | null;
  serviceVersion: string | null;
  host: string;
  onError: ((error: InferlogError) => void) | null;
  spillDir: string | null;
  maxSpillBytes: number;
  spillStaleMs: number;
  spillAfterMs: number;
  /** How often the write-ahead journal is synced, in ms; null when there is no write-ahead journal. */
  writeAheadSyncMs: number | null;
  statementIntervalMs: number;
  overflow: OverflowPolicy;
  overflowWaitMs: number;
  onDrop: ((count: number, reason: string) => void) | null;
  /** How body digests are made: plain SHA-256, HMAC-SHA-256 with this key, or not at all. */
  bodyDigest: { kind: 'sha256' } | { kind: 'hmac'; key: Buffer } | { kind: 'none' };
  /** The global redaction rules alone (applied to oversight events' data); null when there are none. */
  redactor: Redactor | null;
  /**
   * The detector rules of every route, global and its own: what inferlog writes outside the database
   * (reports, thrown errors, stats, 503 bodies) passes them. Null when no route has detectors.
   */
  reportRedactor: Redactor | null;
}

const TOP_LEVEL_KEYS = [
  'database',
  'schema',
  'table',
  'migrate',
  'partitionsAhead',
  'poolSize',
  'databaseTimeoutMs',
  'embeddedDir',
  'routes',
  'exclude',
  'sample',
  'requestIdHeader',
  'headers',
  'maxBodyBytes',
  'batch',
  'maxQueueBytes',
  'service',
  'serviceVersion',
  'host',
  'onError',
  'spillDir',
  'maxSpillBytes',
  'spillStaleMs',
  'spillAfterMs',
  'writeAhead',
  'writeAheadSyncMs',
  'statementIntervalMs',
  'overflow',
  'overflowWaitMs',
  'onDrop',
  'redact',
  'hmacKey',
  'bodyDigest',
  'worker',
] as const satisfies readonly (keyof InferenceLogOptions)[];
const ROUTE_RULE_KEYS = ['path', 'methods', 'protocol', 'sample', 'redact'];
const MIN_HMAC_KEY_BYTES = 16;
const MiB = 1024 * 1024;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function fail(message: string): never {
  throw new InferlogConfigError(message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RegExp);
}

function checkKeys(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`unknown option "${where}${key}"; known options are: ${allowed.join(', ')}`);
  }
}

function integer(name: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`option "${name}" must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  }
  return value;
}

function fraction(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    fail(`option "${name}" must be a number from 0 to 1; got ${JSON.stringify(value)}`);
  return value;
}

function text(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') fail(`option "${name}" must be a non-empty string; got ${JSON.stringify(value)}`);
  return value;
}

function optionalText(name: string, value: unknown, fallback: string | undefined): string | null {
  return value === undefined ? (fallback ?? null) : text(name, value, '');
}

function headerList(name: string, value: unknown, fallback: readonly string[]): ReadonlySet<string> {
  if (value === undefined) return new Set(fallback);
  if (!Array.isArray(value)) fail(`option "${name}" must be an array of header names`);
  return new Set(
    value.map((header: unknown) => {
      if (typeof header !== 'string' || !HEADER_NAME.test(header))
        fail(`option "${name}" has an invalid header name ${JSON.stringify(header)}`);
      if (isSecretHeader(header)) fail(`option "${name}" lists "${header}", a credential header that inferlog never stores; remove it`);
      return header.toLowerCase();
    }),
  );
}

function ruleList(name: string, value: unknown, key: Buffer | null): CompiledRule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(`option "${name}" must be an array of redaction rules`);
  return value.map((rule, i) => compileRule(`${name}[${i}]`, rule, key));
}

function bodyDigestMode(kind: BodyDigest, key: Buffer | null): ResolvedOptions['bodyDigest'] {
  return kind === 'hmac' ? { kind, key: derivedKey(key!, 'body-digest') } : { kind };
}

/** The HMAC key from the option or INFERLOG_HMAC_KEY; null when neither is set. */
function hmacKey(value: unknown): Buffer | null {
  const from = value === undefined ? 'INFERLOG_HMAC_KEY' : 'option "hmacKey"';
  if (value !== undefined && (value === '' || (Buffer.isBuffer(value) && value.length === 0)))
    fail('option "hmacKey" is empty: give the key, or leave the option out to use INFERLOG_HMAC_KEY');
  const raw = value ?? process.env.INFERLOG_HMAC_KEY;
  if (raw === undefined || raw === '') return null;
  if (typeof raw !== 'string' && !Buffer.isBuffer(raw)) fail('option "hmacKey" must be a string or a Buffer');
  const key = Buffer.from(raw);
  if (key.length < MIN_HMAC_KEY_BYTES)
    fail(`${from} must be at least ${MIN_HMAC_KEY_BYTES} bytes (a random 32-byte key is best); got ${key.length}`);
  return key;
}

function routeList(
  name: string,
  value: unknown,
  fallback: readonly RouteSpec[],
  sample: number,
  global: CompiledRule[] = [],
  key: Buffer | null = null,
) {
  if (value === undefined) value = fallback;
  if (!Array.isArray(value))
    fail(`option "${name}" must be an array of patterns, RegExps, predicates or { path, methods, protocol, sample, redact } rules`);
  return value.map((spec: unknown, i: number) => {
    const where = `${name}[${i}]`;
    let own: CompiledRule[] = [];
    if (isPlainObject(spec)) {
      checkKeys(`${where}.`, spec, ROUTE_RULE_KEYS);
      if (spec.methods !== undefined && !(Array.isArray(spec.methods) && spec.methods.every((m) => typeof m === 'string' && m !== ''))) {
        fail(`option "${where}.methods" must be an array of HTTP method names`);
      }
      if (spec.protocol !== undefined && typeof spec.protocol !== 'function' && !PROTOCOL_NAMES.includes(spec.protocol as never)) {
        fail(
          `option "${where}.protocol" must be one of ${PROTOCOL_NAMES.join(', ')} or a mapper function; got ${JSON.stringify(spec.protocol)}`,
        );
      }
      fraction(`${where}.sample`, spec.sample, sample);
      if (name === 'exclude' && spec.redact !== undefined)
        fail(`option "${where}.redact": excluded requests are not logged, so they have nothing to redact`);
      own = ruleList(`${where}.redact`, spec.redact, key);
      spec = spec.path;
      if (spec === undefined) fail(`option "${where}.path" is required`);
    }
    if (typeof spec !== 'string' && !(spec instanceof RegExp) && typeof spec !== 'function') {
      fail(`option "${where}" must be a pattern string, a RegExp, a predicate or a rule object; got ${typeof spec}`);
    }
    const rules = [...global, ...own];
    try {
      return compileRoute(value[i] as RouteSpec, { sample }, rules.length > 0 ? new Redactor(rules) : null);
    } catch (err) {
      return fail(`option "${where}": ${(err as Error).message}`);
    }
  });
}

function resolveDatabase(value: unknown): ResolvedOptions['database'] {
  if (value === undefined) {
    const fromEnv = process.env.DATABASE_URL;
    if (fromEnv) return fromEnv;
    if (process.env.NODE_ENV === 'production') {
      fail(
        'no database configured: set the "database" option or DATABASE_URL (NODE_ENV is production, where the embedded development store is not used unless you pass database: "embedded")',
      );
    }
    return 'embedded';
  }
  if (typeof value === 'string' && value !== '') return value;
  if (isPlainObject(value)) return value as PgConnectionConfig;
  fail(`option "database" must be a connection string, a pg connection config object or "embedded"; got ${JSON.stringify(value)}`);
}

/** The write-ahead journal's sync interval, or null when there is none (turned off, or no `spillDir`). */
function writeAheadSync(options: InferenceLogOptions): number | null {
  const { writeAhead, spillDir } = options;
  if (writeAhead !== undefined && typeof writeAhead !== 'boolean')
    fail(`option "writeAhead" must be true or false; got ${JSON.stringify(writeAhead)}`);
  if (writeAhead === true && spillDir === false)
    fail('option "writeAhead" needs a "spillDir" (the journal is kept there): set one, or set writeAhead: false');
  const syncMs = integer('writeAheadSyncMs', options.writeAheadSyncMs, 1000, 0, 3_600_000);
  return writeAhead === false || spillDir === false ? null : syncMs;
}

/** Validates the options in one place: an unknown or ill-typed option throws an error naming it. */
/** One redactor with the detector rules (those without a path) of the global rules and every route's, each once. */
function reportRedactor(global: readonly CompiledRule[], routes: readonly CompiledRoute[]): Redactor | null {
  const rules = new Set<CompiledRule>();
  for (const rule of [...global, ...routes.flatMap((route) => route.redactor?.rules ?? [])])
    if (rule.selectors === null && rule.detectors.length > 0) rules.add(rule);
  return rules.size > 0 ? new Redactor([...rules]) : null;
}

export function resolveOptions(options: InferenceLogOptions = {}): ResolvedOptions {
  if (!isPlainObject(options)) fail('options must be an object');
  checkKeys('', options, TOP_LEVEL_KEYS);
  const sample = fraction('sample', options.sample, 1);

  const headers = options.headers ?? {};
  if (!isPlainObject(headers)) fail('option "headers" must be an object { request?, response? }');
  checkKeys('headers.', headers, ['request', 'response']);

  const batch = options.batch ?? {};
  if (!isPlainObject(batch)) fail('option "batch" must be an object { maxRows?, maxBytes?, flushIntervalMs? }');
  checkKeys('batch.', batch, ['maxRows', 'maxBytes', 'flushIntervalMs']);

  const requestIdHeader = options.requestIdHeader;
  if (
    requestIdHeader !== undefined &&
    requestIdHeader !== false &&
    !(typeof requestIdHeader === 'string' && HEADER_NAME.test(requestIdHeader))
  ) {
    fail(`option "requestIdHeader" must be a header name or false; got ${JSON.stringify(requestIdHeader)}`);
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') fail('option "onError" must be a function');
  if (options.migrate !== undefined && typeof options.migrate !== 'boolean') fail('option "migrate" must be true or false');
  if (options.worker !== undefined && typeof options.worker !== 'boolean') fail('option "worker" must be true or false');
  if (options.onDrop !== undefined && typeof options.onDrop !== 'function') fail('option "onDrop" must be a function');
  if (options.overflow !== undefined && !OVERFLOW_POLICIES.includes(options.overflow as OverflowPolicy)) {
    fail(`option "overflow" must be one of ${OVERFLOW_POLICIES.join(', ')}; got ${JSON.stringify(options.overflow)}`);
  }
  if (options.spillDir !== undefined && options.spillDir !== false && (typeof options.spillDir !== 'string' || options.spillDir === '')) {
    fail(`option "spillDir" must be a directory path or false; got ${JSON.stringify(options.spillDir)}`);
  }

  if (options.bodyDigest !== undefined && !BODY_DIGESTS.includes(options.bodyDigest as BodyDigest)) {
    fail(`option "bodyDigest" must be one of ${BODY_DIGESTS.join(', ')}; got ${JSON.stringify(options.bodyDigest)}`);
  }
  const key = hmacKey(options.hmacKey);
  if (options.bodyDigest === 'hmac' && !key)
    fail(
      'option "bodyDigest" is "hmac", which needs a key: set the "hmacKey" option or INFERLOG_HMAC_KEY (at least 16 bytes, kept secret)',
    );
  const redact = ruleList('redact', options.redact, key);

  const database = resolveDatabase(options.database);
  const embedded = database === 'embedded';
  if (embedded) loadEmbedded();
  const routes = routeList('routes', options.routes, DEFAULT_ROUTES, sample, redact, key);
  const redacts = routes.some((route) => route.redactor !== null);
  return {
    database,
    schema: options.schema === undefined ? 'inferlog' : checkSchemaName(options.schema),
    table: options.table === undefined ? 'inference_log' : checkTableName(options.table),
    migrate: options.migrate ?? true,
    partitionsAhead: integer('partitionsAhead', options.partitionsAhead, 2, 0, 120),
    poolSize: embedded ? 1 : integer('poolSize', options.poolSize, 2, 1, 100),
    databaseTimeoutMs: integer('databaseTimeoutMs', options.databaseTimeoutMs, 10_000, 100, 600_000),
    embeddedDir: resolvePath(text('embeddedDir', options.embeddedDir, './.inferlog/pgdata')),
    selector: new RouteSelector(routes, routeList('exclude', options.exclude, [], 1)),
    requestIdHeader: requestIdHeader === false ? null : (requestIdHeader ?? 'x-request-id').toLowerCase(),
    requestHeaders: headerList('headers.request', headers.request, DEFAULT_REQUEST_HEADERS),
    responseHeaders: headerList('headers.response', headers.response, DEFAULT_RESPONSE_HEADERS),
    maxBodyBytes: integer('maxBodyBytes', options.maxBodyBytes, MiB, 0, 1024 * MiB),
    batch: {
      maxRows: integer('batch.maxRows', batch.maxRows, 2000, 1, 100_000),
      maxBytes: integer('batch.maxBytes', batch.maxBytes, 4 * MiB, 1024),
      flushIntervalMs: integer('batch.flushIntervalMs', batch.flushIntervalMs, 50, 1, 3_600_000),
    },
    maxQueueBytes: integer('maxQueueBytes', options.maxQueueBytes, 64 * MiB, 1024),
    service: optionalText('service', options.service, process.env.npm_package_name),
    serviceVersion: optionalText('serviceVersion', options.serviceVersion, process.env.npm_package_version),
    host: text('host', options.host, hostname()),
    onError: (options.onError as ResolvedOptions['onError']) ?? null,
    spillDir: options.spillDir === false ? null : resolvePath((options.spillDir as string | undefined) ?? './.inferlog/spill'),
    maxSpillBytes: integer('maxSpillBytes', options.maxSpillBytes, 1024 * MiB, 0),
    spillStaleMs: integer('spillStaleMs', options.spillStaleMs, 60_000, 200, 86_400_000),
    spillAfterMs: integer('spillAfterMs', options.spillAfterMs, 1000, 0, 3_600_000),
    writeAheadSyncMs: writeAheadSync(options),
    statementIntervalMs: integer('statementIntervalMs', options.statementIntervalMs, DEFAULT_STATEMENT_INTERVAL_MS, 50, 3_600_000),
    overflow: (options.overflow as OverflowPolicy | undefined) ?? 'wait',
    overflowWaitMs: integer('overflowWaitMs', options.overflowWaitMs, 30_000, 0, 3_600_000),
    onDrop: (options.onDrop as ResolvedOptions['onDrop']) ?? null,
    redactor: redact.length > 0 ? new Redactor(redact) : null,
    reportRedactor: reportRedactor(redact, routes),
    bodyDigest: bodyDigestMode((options.bodyDigest as BodyDigest | undefined) ?? (key ? 'hmac' : redacts ? 'none' : 'sha256'), key),
  };
}
