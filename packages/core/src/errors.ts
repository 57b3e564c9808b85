/** Why inferlog reports an error. */
export type InferlogErrorCode =
  /** The database could not be reached, migrated or started (embedded). Records wait in the queue. */
  | 'E_STORE_START'
  /** A batch could not be written; it is retried. */
  | 'E_WRITE'
  /** Capturing a request failed inside the middleware; the request was served and not logged. */
  | 'E_CAPTURE'
  /** A captured exchange could not be turned into a full record (a fallback record was stored), or its protocol mapper threw (it was stored raw). */
  | 'E_RECORD'
  /** The queue was full and records were dropped (counted in `stats().dropped`). */
  | 'E_QUEUE_FULL'
  /** The spill journal could not be written or read; records stay in memory (and may be dropped). */
  | 'E_SPILL'
  /** The logger was closed: records captured afterwards, or still unwritten at the deadline, are lost. */
  | 'E_CLOSED'
  /** An oversight event was not valid, or could not be stored (`event()` rejects with it). */
  | 'E_EVENT'
  /** A completeness statement could not be stored; it is tried again at the next interval (a final one at close is not). */
  | 'E_STATEMENT';

/** Every failure inferlog reports to `onError` is one of these. */
export class InferlogError extends Error {
  override readonly name = 'InferlogError';
  constructor(
    readonly code: InferlogErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`inferlog: ${message}`, options);
  }
}

/** Thrown synchronously for invalid options: the message names the option and says what is allowed. */
export class InferlogConfigError extends Error {
  override readonly name = 'InferlogConfigError';
  constructor(message: string) {
    super(`inferlog: ${message}`);
  }
}

/** Why an operation on the log itself (retention) was refused: a rule stopped it, nothing was changed. */
export type InferlogRefusalCode =
  /** A legal hold is active: retention drops nothing until it is lifted, `force` or not. */
  | 'E_LEGAL_HOLD'
  /** The retention period can be shorter than six months and `force` was not given. */
  | 'E_RETENTION_FLOOR';

/** Thrown when a rule refuses an operation on the log (retention under a legal hold or below the floor); the message says which rule and how to proceed. */
export class InferlogRefusedError extends Error {
  override readonly name = 'InferlogRefusedError';
  constructor(
    readonly code: InferlogRefusalCode,
    message: string,
  ) {
    super(`inferlog: ${message}`);
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
