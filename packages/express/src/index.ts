import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { annotate as annotateRequest, InferenceLogger, startExchange, type InferenceLogOptions } from '@inferlog/core';
import type { CloseOptions, InferenceLogStats } from '@inferlog/core';

export * from '@inferlog/core';

/** The Express middleware, with the logger's controls attached. */
export interface InferenceLogMiddleware extends RequestHandler {
  /** The framework-independent logger behind the middleware. */
  readonly logger: InferenceLogger;
  /** Writes everything queued now; rejects when the write fails (records stay queued). */
  flush(): Promise<void>;
  /** Stops capturing and writes what is queued before resolving. Call it on shutdown. */
  close(options?: CloseOptions): Promise<void>;
  /** Counters: captured, written, retried, dropped, queue depth and bytes, last error. */
  stats(): InferenceLogStats;
  /** Resolves once the database is connected and migrated. */
  ready(): Promise<void>;
}

/**
 * Logs every selected inference request to PostgreSQL: `app.use(inferenceLog({ database: process.env.DATABASE_URL }))`.
 * Works before or after the body parser. Never throws into the app or changes its responses.
 */
export function inferenceLog(options?: InferenceLogOptions | InferenceLogger): InferenceLogMiddleware {
  const logger = options instanceof InferenceLogger ? options : new InferenceLogger(options);
  const middleware = function inferenceLogMiddleware(req: Request, res: Response, next: NextFunction): void {
    try {
      const route = logger.select(req.method, req.originalUrl ?? req.url, req.headers);
      if (route) startExchange(logger, route, req, res, () => (req.route ? `${req.baseUrl}${req.route.path}` : null));
    } catch (err) {
      logger.captureFailed(err);
    }
    next();
  };
  return Object.assign(middleware, {
    logger,
    flush: () => logger.flush(),
    close: (closeOptions?: CloseOptions) => logger.close(closeOptions),
    stats: () => logger.stats(),
    ready: () => logger.ready(),
  });
}

/** Adds annotations (tenant, pseudonymous subject, …) to this request's record; a no-op when it is not logged. */
export function annotate(req: Request, values: Record<string, unknown>): void {
  annotateRequest(req, values);
}
