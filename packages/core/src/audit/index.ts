// @inferlog/core/audit: reading, checking, exporting and keeping the log, for the inferlog command and
// other tools. How to reach the log (pgp, the embedded store) and how to migrate it come with it.
export { pgp, type Database } from '../sink/pgp';
export { openEmbedded, type EmbeddedStoreHandle } from '../sink/embedded';
export { migrate } from '../sink/migrate';
export { prepareLog, type PrepareResult } from '../sink/prepare';
export { logTableNames, checkSchemaName, checkTableName, type LogTableNames } from '../sink/names';
export { verifyLog, type VerifyReport, type VerifyOptions, type ChainProblem, type ChainSummary } from './verify';
export {
  verifyBundle,
  type BundleReport,
  type BundleProblem,
  type BundleOptions,
  type BundleChainSummary,
  type BundleFileSummary,
} from './bundle';
export type { ChainOrigin } from './chain-heads';
export { compareWithManifest, type AnchorReport, type AnchorProblem } from './anchors';
export {
  eventsPath,
  manifestOfChain,
  manifestPath,
  readManifest,
  RECORD_HASH_DEFINITION,
  type ExportManifest,
  type ManifestChain,
  type ManifestEvents,
  type ManifestRegistration,
} from './manifest';
export { exportLog, countRecords, type ExportOptions, type ExportResult } from './export';
export type { ParquetExportOptions, ParquetExportResult } from './export-parquet';
export type { DatasetManifest } from './manifest';
export type { ParquetColumn, ParquetColumnType } from './parquet-columns';
export {
  EVENT_EXPORT,
  EXPORT_FORMATS,
  EXPORT_COLUMNS,
  rowFromCsv,
  rowFromJsonl,
  type ExportFormat,
  type ExportedTable,
} from './export-format';
export { canonicalJson, canonicalRow, rowHash } from '../chain/canonical';
export {
  queryRecords,
  newestRecords,
  tailRecords,
  encodeCursor,
  decodeCursor,
  type RecordPage,
  type QueryOptions,
  type RecordPosition,
  type TailResult,
  type NewestPage,
  type NewestOptions,
  type RecordSummary,
} from './query';
export { followRecords, LogFollower, type FollowOptions } from './follow';
export { showFromBundle, type BundleShowResult, type BundleInferenceView } from './show-bundle';
export { showInference, type ShowResult, type ShowOptions, type InferenceView, type ChainCheck, type StatedPeriod } from './show';
export { logStats, type DailyModelStats } from './stats';
export {
  logCompleteness,
  type CompletenessReport,
  type CompletenessOptions,
  type WriterCompleteness,
  type StatementProblem,
} from './completeness';
export {
  STATEMENT_TYPE,
  statementMessage,
  statementSignatureValid,
  type CompletenessStatement,
  type LostRecord,
  type LossReason,
} from '../chain/statement';
export {
  checkIdentifications,
  countIdentifications,
  identificationOf,
  VERIFIER_EVENT_TYPES,
  VERIFIERS_REQUIRED,
  VERIFIERS_LISTED,
  type IdentificationCheckOptions,
  type IdentificationCounts,
  type IdentificationFinding,
  type IdentificationPage,
  type IdentificationProblem,
  type IdentificationView,
} from './identification';
export { toRecordRow, toEventRow, type RecordRow, type EventRow } from './rows';
export { isTensorList, type LoggedTensor } from './tensors';
export {
  parseInstant,
  parseDuration,
  parseStatus,
  parseAnnotation,
  describeFilter,
  type RecordFilter,
  type StatusMatch,
  type StatusClass,
  type AnnotationMatch,
} from './filter';
export {
  applyRetention,
  holdStatus,
  parseRetentionPeriod,
  setHold,
  RETENTION_FLOOR_DAYS,
  type HoldState,
  type RetentionOptions,
  type RetentionPeriod,
  type RetentionPlanPartition,
  type RetentionResult,
} from './retention';
export {
  evidenceReport,
  type EvidenceReport,
  type EvidenceReportOptions,
  type VerificationSection,
  type ExportSection,
  type LoggedSection,
  type LoggedFigures,
  type ModelFigures,
  type Breakdown,
  type ValueCount,
  type RetentionSection,
  type HoldSection,
  type AuditEntry,
  type OversightSection,
  type EventCount,
  type EventDay,
} from './report';
export { renderEvidenceReport } from './report-html';
export { html, Html, escapeText, escapeMarkup, revealInvisible, cut, integer, decimal, percent } from './html';
export {
  monitorLog,
  type MonitorReport,
  type ModelMonitor,
  type FeatureMonitor,
  type FeatureWindow,
  type ModelQuality,
  type QualityWindow,
} from '../monitor/monitor';
export {
  MONITOR_WINDOWS,
  DEFAULT_THRESHOLDS,
  type MonitorOptions,
  type MonitorWindow,
  type DriftThresholds,
  type PredictionRule,
} from '../monitor/options';
export type { FeatureProfile, Quantiles } from '../monitor/profile';
export { renderMonitorHtml, monitorSections, MONITOR_CSS } from '../monitor/html';
export type { QualityFigures } from '../monitor/quality';
