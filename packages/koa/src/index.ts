import type { Context, Middleware, Next } from 'koa';
import { annotate as annotateRequest, InferenceLogger, startExchange, type Exchange, type InferenceLogOptions } from '@inferlog/core';
import type { CloseOptions, InferenceLogStats } from '@inferlog/core';

export * from '@inferlog/core';

/** The Koa middleware, with the logger's controls attached. */
export interface InferenceLogMiddleware extends Middleware {
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
 * Put it first to also record the error responses Koa writes itself. Never throws into the app.
 */
export function inferenceLog(options?: InferenceLogOptions | InferenceLogger): InferenceLogMiddleware {
  const logger = options instanceof InferenceLogger ? options : new InferenceLogger(options);
  const middleware = async function inferenceLogMiddleware(ctx: Context, next: Next): Promise<void> {
    let exchange: Exchange | undefined;
    try {
      const route = logger.select(ctx.method, ctx.originalUrl, ctx.headers);
      if (route) {
        exchange = startExchange(logger, route, ctx.req, ctx.res, () => (ctx as { _matchedRoute?: unknown })._matchedRoute);
        if (ctx.req.readableEnded) {
          const request = ctx.request as { rawBody?: unknown; body?: unknown };
          exchange.parsedRequestBody = request.rawBody ?? request.body;
        }
      }
    } catch (err) {
      logger.captureFailed(err);
    }
    if (!exchange) return next();
    try {
      await next();
    } catch (err) {
      const e = err as { name?: unknown; message?: unknown; status?: unknown; statusCode?: unknown };
      const status = Number(e.status ?? e.statusCode);
      exchange.thrown = {
        name: String(e.name ?? 'Error'),
        message: String(e.message ?? err),
        ...(Number.isInteger(status) ? { status } : {}),
      };
      throw err;
    }
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
export function annotate(ctx: Context, values: Record<string, unknown>): void {
  annotateRequest(ctx.req, values);
}
