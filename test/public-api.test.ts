// The public surface of each package, read from the built packages as an application resolves them.
// A name added or removed here is a change of the public API: docs/api.md must say so too.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const APP = join(__dirname, '..', 'examples'); // a workspace package that depends on the published ones
const node = (code: string): string =>
  execFileSync(process.execPath, ['-e', code], { cwd: APP, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const fromApp = (specifier: string): string[] =>
  JSON.parse(node(`console.log(JSON.stringify(Object.keys(require(${JSON.stringify(specifier)}))))`)).sort();

const CORE = [
  'DEFAULT_ROUTES',
  'DETECTOR_NAMES',
  'EventConflictError',
  'InferenceLogger',
  'InferlogConfigError',
  'InferlogError',
  'InferlogRefusedError',
  'PROTOCOL_NAMES',
  'VERSION',
  'detectAndMap',
  'mapKserveV1',
  'mapOipV2',
  'mapOpenAi',
  'mapOpenAiChat',
  'mapOpenAiCompletion',
  'mapOpenAiEmbedding',
  'mapRaw',
  'pseudonym',
  'registerInferlogMetrics',
  'tensorOf',
];

test('@inferlog/core exports what applications use, and no internals', () => {
  expect(fromApp('@inferlog/core')).toEqual([...CORE].sort());
});

test('@inferlog/express and @inferlog/koa export their middleware, event route and annotate, beside core', () => {
  for (const adapter of ['@inferlog/express', '@inferlog/koa'])
    expect(fromApp(adapter)).toEqual([...CORE, 'annotate', 'inferenceEvents', 'inferenceLog'].sort());
});

test('@inferlog/core/adapter holds what a framework adapter needs', () => {
  expect(fromApp('@inferlog/core/adapter')).toEqual(
    [
      'annotate',
      'exchangeOf',
      'failClosedBody',
      'loggerFrom',
      'recordEvent',
      'refuseUnlogged',
      'routeActor',
      'startExchange',
      'withControls',
    ].sort(),
  );
});

test('@inferlog/core/audit holds reading, checking, exporting and keeping the log', () => {
  expect(fromApp('@inferlog/core/audit')).toEqual(
    [
      'DEFAULT_THRESHOLDS',
      'EVENT_EXPORT',
      'EXPORT_COLUMNS',
      'EXPORT_FORMATS',
      'LogFollower',
      'MONITOR_WINDOWS',
      'RECORD_HASH_DEFINITION',
      'RETENTION_FLOOR_DAYS',
      'STATEMENT_TYPE',
      'VERIFIERS_LISTED',
      'VERIFIERS_REQUIRED',
      'VERIFIER_EVENT_TYPES',
      'applyRetention',
      'canonicalJson',
      'checkIdentifications',
      'canonicalRow',
      'checkSchemaName',
      'checkTableName',
      'compareWithManifest',
      'countIdentifications',
      'countRecords',
      'decodeCursor',
      'describeFilter',
      'encodeCursor',
      'eventsPath',
      'evidenceReport',
      'exportLog',
      'followRecords',
      'holdStatus',
      'logCompleteness',
      'identificationOf',
      'logStats',
      'logTableNames',
      'manifestOfChain',
      'manifestPath',
      'migrate',
      'monitorLog',
      'openEmbedded',
      'parseAnnotation',
      'parseDuration',
      'parseInstant',
      'parseRetentionPeriod',
      'parseStatus',
      'pgp',
      'prepareLog',
      'queryRecords',
      'readManifest',
      'renderEvidenceReport',
      'renderMonitorHtml',
      'monitorSections',
      'MONITOR_CSS',
      'newestRecords',
      'isTensorList',
      'Html',
      'html',
      'escapeText',
      'escapeMarkup',
      'revealInvisible',
      'cut',
      'integer',
      'decimal',
      'percent',
      'rowFromCsv',
      'rowFromJsonl',
      'rowHash',
      'setHold',
      'showFromBundle',
      'showInference',
      'statementMessage',
      'statementSignatureValid',
      'tailRecords',
      'toEventRow',
      'toRecordRow',
      'verifyBundle',
      'verifyLog',
    ].sort(),
  );
});

test('@inferlog/console exports the console as a handler to mount and as a server of its own', () => {
  expect(fromApp('@inferlog/console')).toEqual(['inferlogConsole', 'startConsole']);
});

test('deep imports into a package are closed: only the entry points above resolve', () => {
  expect(() => node("require('@inferlog/core/dist/logger')")).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
});
