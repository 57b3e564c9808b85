// @inferlog/core: what applications use. Framework adapters build on '@inferlog/core/adapter'; the
// inferlog command and other tools that read the log use '@inferlog/core/audit'. Nothing else is public.
export { InferenceLogger, type InferenceLogStats, type CloseOptions } from './logger';
export type { LoggerControls } from './controls';
export type { InferenceLogOptions, BatchOptions, HeaderOptions, PgConnectionConfig, OverflowPolicy, BodyDigest } from './options';
export type { RedactRule } from './redact/rules';
export { pseudonym, type RedactAction } from './redact/actions';
export { DETECTOR_NAMES, type DetectorName } from './redact/detectors';
export { InferlogError, InferlogConfigError, InferlogRefusedError, type InferlogErrorCode, type InferlogRefusalCode } from './errors';
export { DEFAULT_ROUTES, type RouteSpec, type RouteRule, type RoutePattern, type RouteRequest } from './routes';
export { PROTOCOL_NAMES, type ProtocolName } from './protocol';
export type { Mapper, MapperInput, MappedFields, ResponseWrite, SchemaError } from './protocols/mapper';
export type { DecodedBody } from './decode/body';
export { tensorOf, type Tensor } from './protocols/tensor';
export { mapOipV2 } from './protocols/oip-v2/map';
export { mapKserveV1 } from './protocols/kserve-v1';
export { mapOpenAi, mapOpenAiChat, mapOpenAiCompletion, mapOpenAiEmbedding } from './protocols/openai/map';
export { detectAndMap } from './protocols/detect';
export { mapRaw } from './protocols/raw';
export type { InferenceRecord } from './record/record';
export type { OversightEvent, OversightEventType, StoredEvent } from './events/event';
export { EventConflictError } from './events/event';
export type { EventRouteOptions } from './events/http';
export { registerInferlogMetrics } from './prometheus';
export { VERSION } from './version';
