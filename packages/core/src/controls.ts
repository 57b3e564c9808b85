import type { OversightEvent, StoredEvent } from './events/event';
import { InferenceLogger, type CloseOptions, type InferenceLogStats } from './logger';
import type { InferenceLogOptions } from './options';

/** The logger's controls, attached to each adapter's middleware function. */
export interface LoggerControls {
  /** The framework-independent logger behind the middleware. */
  readonly logger: InferenceLogger;
  /** Writes everything queued now; rejects when the write fails (records stay queued and are retried). */
  flush(): Promise<void>;
  /** Stops capturing and writes what is queued before resolving. Call it on shutdown. */
  close(options?: CloseOptions): Promise<void>;
  /** Counters: captured, written, retried, dropped, queue depth and bytes, last error. */
  stats(): InferenceLogStats;
  /** Resolves once the database is connected and migrated; rejects with the start-up error. */
  ready(): Promise<void>;
  /** Records an oversight event (review, override, feedback, ground truth, incident) about an inference, by its `id` or `request_id`. */
  event(subject: string, event: OversightEvent): Promise<StoredEvent>;
}

/** The logger an adapter wraps: the one given, or a new one made from options. */
export function loggerFrom(options?: InferenceLogOptions | InferenceLogger): InferenceLogger {
  return options instanceof InferenceLogger ? options : new InferenceLogger(options);
}

/** Attaches the logger's controls to a middleware function. */
export function withControls<F extends object>(middleware: F, logger: InferenceLogger): F & LoggerControls {
  return Object.assign(middleware, {
    logger,
    flush: () => logger.flush(),
    close: (options?: CloseOptions) => logger.close(options),
    stats: () => logger.stats(),
    ready: () => logger.ready(),
    event: (subject: string, event: OversightEvent) => logger.event(subject, event),
  });
}
