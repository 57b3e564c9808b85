import type { Context, Middleware, Next } from 'koa';
import type { EventRouteOptions, InferenceLogger, InferenceLogOptions } from '@inferlog/core';
import {
  annotate as annotateRequest,
  failClosedBody,
  loggerFrom,
  recordEvent,
  routeActor,
  startExchange,
  withControls,
  type Exchange,
  type LoggerControls,
} from '@inferlog/core/adapter';

export * from '@inferlog/core';

/** How @koa/router ends the path of a `router.use()` layer that matches a prefix. */
const USE_LAYER_END = '(?:\\/|$)';

/**
 * The target relative to where this middleware runs. koa-mount cuts its prefix off `ctx.url`; @koa/router
 * does not, so inside a `router.use()` layer of a router with a prefix (or mounted with
 * `parent.use('/nest', child.routes())`) that prefix is cut off here. It is read from the layer's path
 * in `ctx.routerPath` (`/api(?:\/|$)`) when it is a plain path; otherwise the full path is used.
 */
function mountedUrl(ctx: Context): string {
  const layer = (ctx as { routerPath?: unknown }).routerPath;
  if (typeof layer !== 'string' || !layer.endsWith(USE_LAYER_END)) return ctx.url;
  const prefix = layer.slice(0, -USE_LAYER_END.length);
  if (prefix === '' || !prefix.startsWith('/') || /[:*?(){}\\[\]+]/.test(prefix)) return ctx.url;
  const path = ctx.path;
  if (!path.startsWith(prefix) || (path.length > prefix.length && path[prefix.length] !== '/')) return ctx.url;
  return path.slice(prefix.length) || '/';
}

/** The Koa middleware, with the logger's controls (`flush`, `close`, `stats`, `ready`) attached. */
export interface InferenceLogMiddleware extends Middleware, LoggerControls {}

/**
 * Logs every selected inference request to PostgreSQL: `app.use(inferenceLog({ database: process.env.DATABASE_URL }))`.
 * Put it first to also record the error responses Koa writes itself. Never throws into the app.
 */
export function inferenceLog(options?: InferenceLogOptions | InferenceLogger): InferenceLogMiddleware {
  const logger = loggerFrom(options);
  const middleware = async function inferenceLogMiddleware(ctx: Context, next: Next): Promise<void> {
    let exchange: Exchange | undefined;
    try {
      const target = { url: mountedUrl(ctx), originalUrl: ctx.originalUrl };
      const route = logger.select(ctx.req, target);
      // Under overflow 'wait' with the queue full, the request goes on once the log has room for its record.
      const admitted = route ? logger.admit() : true;
      if (admitted !== true && !(await admitted)) {
        ctx.status = 503;
        ctx.set('retry-after', '1');
        ctx.body = failClosedBody(logger.refusalReason());
        return;
      }
      if (route) {
        exchange = startExchange(logger, route, ctx.req, ctx.res, () => (ctx as { _matchedRoute?: unknown })._matchedRoute, target);
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
  return withControls(middleware, logger);
}

/**
 * A route handler that records oversight events about an inference: mount it behind your authentication,
 * after a body parser, on a path with an `:id` parameter (the inference's id or request id):
 * `router.post('/inferences/:id/events', requireReviewer, bodyParser(), inferenceEvents(log, { actor: (ctx) => ctx.state.user.id }))`.
 * The body is `{ type, actor?, data?, id? }`; answers 201 with the stored event, 400 when it is not
 * valid, 403 when the `actor` option finds no actor for the request, 409 when its `id` names another
 * stored event, 503 when the log cannot take it now.
 */
export function inferenceEvents(log: LoggerControls, options: EventRouteOptions<Context> = {}): Middleware {
  return async function inferenceEventsHandler(ctx: Context): Promise<void> {
    const params = (ctx as { params?: Record<string, string> }).params ?? {};
    const reply = await recordEvent(
      (subject, event) => log.event(subject, event),
      params.id,
      (ctx.request as { body?: unknown }).body,
      options.actor ? { value: routeActor(options, ctx) } : undefined,
    );
    ctx.status = reply.status;
    ctx.body = reply.body;
  };
}

/** Adds annotations (tenant, pseudonymous subject, …) to this request's record; a no-op when it is not logged. */
export function annotate(ctx: Context, values: Record<string, unknown>): void {
  annotateRequest(ctx.req, values);
}
