import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { EventRouteOptions, InferenceLogger, InferenceLogOptions } from '@inferlog/core';
import {
  annotate as annotateRequest,
  loggerFrom,
  recordEvent,
  refuseUnlogged,
  routeActor,
  startExchange,
  withControls,
  type LoggerControls,
} from '@inferlog/core/adapter';

export * from '@inferlog/core';

/** The route that selected a request. */
type SelectedRoute = NonNullable<ReturnType<InferenceLogger['select']>>;

/** The Express middleware, with the logger's controls (`flush`, `close`, `stats`, `ready`) attached. */
export interface InferenceLogMiddleware extends RequestHandler, LoggerControls {}

/**
 * Logs every selected inference request to PostgreSQL: `app.use(inferenceLog({ database: process.env.DATABASE_URL }))`.
 * Works before or after the body parser. Never throws into the app or changes its responses.
 */
export function inferenceLog(options?: InferenceLogOptions | InferenceLogger): InferenceLogMiddleware {
  const logger = loggerFrom(options);
  const capture = (route: SelectedRoute, req: Request, res: Response): void => {
    try {
      startExchange(logger, route, req, res, () => (req.route ? `${req.baseUrl}${req.route.path}` : null));
    } catch (err) {
      logger.captureFailed(err);
    }
  };
  const middleware = function inferenceLogMiddleware(req: Request, res: Response, next: NextFunction): void {
    let route: SelectedRoute | undefined;
    let admitted: boolean | Promise<boolean> = true;
    try {
      route = logger.select(req);
      if (route) admitted = logger.admit();
      if (admitted === false) {
        refuseUnlogged(res, logger.refusalReason());
        return;
      }
    } catch (err) {
      logger.captureFailed(err);
      route = undefined;
    }
    if (route && admitted !== true) {
      const waiting = admitted as Promise<boolean>;
      // The queue is full (overflow: 'wait'): the request goes on once the log has room for its record.
      const selected = route;
      waiting.then((room) => {
        if (!room) return refuseUnlogged(res, logger.refusalReason());
        capture(selected, req, res);
        next();
      }, next);
      return;
    }
    if (route) capture(route, req, res);
    next();
  };
  return withControls(middleware, logger);
}

/**
 * A route handler that records oversight events about an inference: mount it behind your authentication,
 * after a JSON body parser, on a path with an `:id` parameter (the inference's id or request id):
 * `app.post('/inferences/:id/events', requireReviewer, express.json(), inferenceEvents(log, { actor: (req) => req.user.id }))`.
 * The body is `{ type, actor?, data?, id? }`; answers 201 with the stored event, 400 when it is not
 * valid, 403 when the `actor` option finds no actor for the request, 409 when its `id` names another
 * stored event, 503 when the log cannot take it now.
 */
export function inferenceEvents(log: LoggerControls, options: EventRouteOptions<Request> = {}): RequestHandler {
  return function inferenceEventsHandler(req: Request, res: Response, next: NextFunction): void {
    recordEvent(
      (subject, event) => log.event(subject, event),
      req.params.id,
      req.body,
      options.actor ? { value: routeActor(options, req) } : undefined,
    )
      .then((reply) => res.status(reply.status).json(reply.body))
      .catch(next);
  };
}

/** Adds annotations (tenant, pseudonymous subject, …) to this request's record; a no-op when it is not logged. */
export function annotate(req: Request, values: Record<string, unknown>): void {
  annotateRequest(req, values);
}
