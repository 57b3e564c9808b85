export { InferenceLogger, type InferenceLogStats, type CloseOptions } from './logger';
export { loggerFrom, withControls, type LoggerControls } from './controls';
export {
  resolveOptions,
  type InferenceLogOptions,
  type BatchOptions,
  type HeaderOptions,
  type PgConnectionConfig,
  type ResolvedOptions,
  type OverflowPolicy,
  type BodyDigest,
} from './options';
export type { RedactRule } from './redact/rules';
export { pseudonym, type RedactAction } from './redact/actions';
export { DETECTOR_NAMES, type DetectorName } from './redact/detectors';
export { InferlogError, InferlogConfigError, InferlogRefusedError, type InferlogErrorCode, type InferlogRefusalCode } from './errors';
export { DEFAULT_ROUTES, compilePattern, type RouteSpec, type RouteRule, type RoutePattern, type RouteRequest, type CompiledRoute } from './routes';
export { PROTOCOL_NAMES, type ProtocolName } from './protocol';
export type { Mapper, MapperInput, MappedFields, ResponseWrite, SchemaError, DecodedBody } from './protocols/mapper';
export { tensorOf, type Tensor } from './protocols/tensor';
export { mapOipV2 } from './protocols/oip-v2/map';
export { mapKserveV1 } from './protocols/kserve-v1';
export { mapOpenAi, mapOpenAiChat, mapOpenAiCompletion, mapOpenAiEmbedding } from './protocols/openai/map';
export { detectAndMap } from './protocols/detect';
export { mapRaw } from './protocols/raw';
export { Exchange, startExchange, annotate, exchangeOf, type ThrownError } from './capture/exchange';
export { failClosedBody, refuseUnlogged } from './capture/fail-closed';
export type { InferenceRecord } from './record/record';
export { buildRecord } from './record/build';
export { migrate } from './sink/migrate';
export { uuidv7 } from './ids';
export { openEmbedded, type EmbeddedStoreHandle } from './sink/embedded';
export { pgp, type Database } from './sink/pgp';
export { RECORD_COLUMNS, JSONB_COLUMNS } from './record/record';
export { toJsonb, toText } from './record/sanitize';
export { openPostgresSink } from './sink/connect';
export { PostgresSink, StoredMeanwhileError, type RecordSink } from './sink/postgres-sink';
export { registerInferlogMetrics } from './prometheus';
export { toCopyText } from './sink/copy-text';
export { Chain, type Chained, type ChainKind, type ChainRegistration } from './chain/chain';
export { canonicalJson, canonicalRow, rowHash, RECORD_HASH_COLUMNS, EVENT_HASH_COLUMNS, type ColumnKind } from './chain/canonical';
export { verifyLog, type VerifyReport, type VerifyOptions, type ChainProblem, type ChainSummary } from './audit/verify';
export { forEachRow } from './audit/cursor';
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
} from './audit/retention';
export {
  parseInstant,
  parseDuration,
  parseStatus,
  parseAnnotation,
  filterSql,
  describeFilter,
  type RecordFilter,
  type StatusMatch,
  type StatusClass,
  type AnnotationMatch,
} from './audit/filter';
export { toRecordRow, toEventRow, type RecordRow, type EventRow } from './audit/rows';
export { queryRecords, tailRecords, encodeCursor, decodeCursor, type RecordPage, type QueryOptions, type RecordPosition, type TailResult } from './audit/query';
export { followRecords, LogFollower, type FollowOptions } from './audit/follow';
export { showInference, type ShowResult, type ShowOptions, type InferenceView, type ChainCheck } from './audit/show';
export { logStats, type DailyModelStats } from './audit/stats';
export { exportLog, countRecords, type ExportOptions, type ExportResult } from './audit/export';
export { EXPORT_FORMATS, EXPORT_COLUMNS, jsonlLine, csvLine, csvHeader, rowFromCsv, rowFromJsonl, type ExportFormat } from './audit/export-format';
export { manifestPath, readManifest, RECORD_HASH_DEFINITION, type ExportManifest, type ManifestChain } from './audit/manifest';
export { verifyBundle, type BundleReport, type BundleProblem, type BundleOptions, type BundleChainSummary } from './audit/bundle';
export { compareWithManifest, type AnchorReport, type AnchorProblem } from './audit/anchors';
export { prepareLog, type PrepareResult } from './sink/prepare';
export { VERSION } from './version';
export { logTableNames, type LogTableNames } from './sink/names';
export type { OversightEvent, OversightEventType, StoredEvent } from './events/event';
export { EventConflictError } from './events/event';
export { recordEvent, routeActor, type EventRouteOptions, type EventReply } from './events/http';
