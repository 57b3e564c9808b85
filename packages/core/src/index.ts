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
} from './options';
export { InferlogError, InferlogConfigError, type InferlogErrorCode } from './errors';
export { DEFAULT_ROUTES, compilePattern, type RouteSpec, type RouteRule, type RoutePattern, type RouteRequest, type CompiledRoute } from './routes';
export type { ProtocolName } from './protocol';
export { Exchange, startExchange, annotate, exchangeOf, type ThrownError } from './capture/exchange';
export { failClosedBody, refuseUnlogged } from './capture/fail-closed';
export type { InferenceRecord } from './record/record';
export { buildRecord } from './record/build';
export { migrate } from './sink/migrate';
export { uuidv7 } from './ids';
export { acquireEmbedded } from './sink/embedded';
export { pgp } from './sink/pgp';
export { RECORD_COLUMNS, JSONB_COLUMNS } from './record/record';
export { toJsonb, toText } from './record/sanitize';
export { openPostgresSink } from './sink/connect';
export { PostgresSink, type RecordSink } from './sink/postgres-sink';
export { registerInferlogMetrics } from './prometheus';
export { toCopyText } from './sink/copy-text';
