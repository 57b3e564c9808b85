import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import onFinished from 'on-finished';
import { acceptRequestId, uuidv7 } from '../ids';
import { BodyCollector, type DigestMode } from './body-collector';
import { teeRequest } from './request-tee';
import { type HeadNotes, sentHeaders, watchHead } from './response-head';
import { teeResponse } from './response-tee';

/** An error the framework saw while handling the request (Koa passes thrown errors through the middleware). */
export interface ThrownError {
  name: string;
  message: string;
  status?: number;
}

/**
 * Where a request is seen, when the adapter knows better than `req`: `url` is the target relative to where
 * the middleware runs (default `req.url`, which Express's routers and koa-mount cut their prefix off),
 * `originalUrl` the target the client sent (default `req.originalUrl`, else `req.url`).
 */
export interface RequestTarget {
  url?: string;
  originalUrl?: string;
}

/** What capture needs of the route that selected a request (the selection stage's route satisfies it). */
export interface CaptureRoute {
  /** The pattern as written; null for RegExps and predicates, whose record takes the framework's route. */
  readonly label: string | null;
  /** Whether its responses may be streams: only those keep the times of their writes (time to first token). */
  readonly mayStream: boolean;
}

/**
 * Everything captured of one request/response, held by reference until the flush path turns it into a
 * record. Nothing here parses or copies bodies. `R` is the route that selected it, passed on untouched.
 */
export class Exchange<R extends CaptureRoute = CaptureRoute> {
  readonly id: string;
  readonly requestId: string;
  readonly startedAt: number;
  /** performance.now() when the request arrived; the origin of latency and write times. */
  readonly startMark = performance.now();
  readonly method: string;
  /** The request target as the client sent it (`originalUrl`): the stored path is its routed path. */
  readonly url: string;
  /** The target where the middleware ran (`req.url`, after any mount prefix was cut off): route parameters come from it. */
  readonly routeUrl: string;
  readonly requestHeaders: IncomingHttpHeaders;
  readonly request: BodyCollector;
  readonly response: BodyCollector;
  /** A body a parser had already consumed before the middleware ran (no raw bytes were seen). */
  parsedRequestBody: unknown = undefined;
  thrown: ThrownError | null = null;
  /** The connection closed before the whole request body arrived: size and digest cover only what did. */
  requestIncomplete = false;
  annotations: Record<string, unknown> | null = null;
  /** Counted among the requests its sink waits for at close (see `ExchangeSink.begin`). */
  inFlight = false;
  /** The route pattern the framework matched (used when the inferlog rule is a RegExp or predicate). */
  frameworkRoute: string | null = null;
  latencyMs = 0;
  status = 0;
  aborted = false;
  responseHeaders: OutgoingHttpHeaders = {};
  /** The response head as it passed the middleware: the writeHead headers argument, and the body's coding there. */
  readonly head: HeadNotes = { argument: undefined, encoding: undefined, lost: false };

  constructor(
    readonly route: R,
    req: IncomingMessage,
    maxBodyBytes: number,
    requestIdHeader: string | null,
    bodyDigest?: DigestMode,
    target?: RequestTarget,
  ) {
    this.startedAt = Date.now();
    this.id = uuidv7(this.startedAt);
    this.requestId = (requestIdHeader && acceptRequestId(req.headers[requestIdHeader])) || this.id;
    this.method = req.method ?? 'GET';
    this.routeUrl = target?.url ?? req.url ?? '/';
    this.url = target?.originalUrl ?? (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    this.requestHeaders = req.headers;
    this.request = new BodyCollector(maxBodyBytes, false, bodyDigest);
    this.response = new BodyCollector(maxBodyBytes, route.mayStream, bodyDigest);
  }

  /** Adds the application's annotations (merged; later keys win). */
  annotate(values: Record<string, unknown>): void {
    this.annotations = { ...this.annotations, ...values };
  }

  /**
   * Takes the outcome when the response is done: 'finish' (the last byte handed to the connection) or the
   * connection's 'close' or 'error' before it. Only 'finish' proves the response went out whole: Node
   * marks the response destroyed, or its socket, before the others reach this. A response written after
   * the connection was gone is dropped by Node, which still reports it finished (`writableFinished`): it
   * is aborted, and has no status when even its head was written to the closed connection.
   */
  finish(res: ServerResponse): void {
    this.latencyMs = performance.now() - this.startMark;
    const headSent = res.headersSent && !this.head.lost;
    this.status = headSent ? res.statusCode : 0;
    this.aborted = !(res.writableFinished && headSent && !res.destroyed && res.socket?.destroyed !== true);
    this.responseHeaders = sentHeaders(res, this.head);
    // Node sends no body for HEAD, 1xx, 204 and 304, whatever the app wrote: none crossed the wire.
    if (this.method === 'HEAD' || this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200)) {
      this.response.discard();
    }
    this.response.seal();
  }

  /** Bytes this exchange holds in memory, for the queue's byte bound. */
  get heldBytes(): number {
    return this.request.heldBytes + this.response.heldBytes + 1024;
  }
}

const EXCHANGE = Symbol.for('inferlog.exchange');

/** The exchange being captured for this request, if it is logged. */
export function exchangeOf(req: IncomingMessage): Exchange | undefined {
  return (req as unknown as Record<symbol, Exchange | undefined>)[EXCHANGE];
}

/**
 * Adds annotations (tenant, pseudonymous subject, reference data …) to the record of this request;
 * a no-op when the request is not logged. Values must be JSON-serialisable.
 */
export function annotate(req: IncomingMessage, values: Record<string, unknown>): void {
  exchangeOf(req)?.annotate(values);
}

export interface ExchangeSink<R extends CaptureRoute = CaptureRoute> {
  readonly maxBodyBytes: number;
  readonly requestIdHeader: string | null;
  readonly bodyDigest: DigestMode;
  /** A selected request's capture begins (before its response): the sink may wait for it at close. */
  begin?(exchange: Exchange<R>): void;
  enqueue(exchange: Exchange<R>): void;
}

/**
 * Starts capturing a selected request: the one piece of hot-path work both adapters share.
 * Echoes the request id, tees both bodies and hands the exchange to the sink when the response is done.
 * `frameworkRoute` reads the route the framework matched (asked when the response is done);
 * `target` says where the request is seen when `req` does not (Koa keeps the original target on its context).
 */
export function startExchange<R extends CaptureRoute>(
  sink: ExchangeSink<R>,
  route: R,
  req: IncomingMessage,
  res: ServerResponse,
  frameworkRoute?: () => unknown,
  target?: RequestTarget,
): Exchange<R> {
  const exchange = new Exchange(route, req, sink.maxBodyBytes, sink.requestIdHeader, sink.bodyDigest, target);
  (req as unknown as Record<symbol, Exchange>)[EXCHANGE] = exchange;
  sink.begin?.(exchange);
  // The echo is added as the head goes out, in the form the app sends it (never with setHeader now).
  if (!res.headersSent) watchHead(res, sink.requestIdHeader ? [sink.requestIdHeader, exchange.requestId] : null, exchange.head);
  if (req.readableEnded) {
    exchange.parsedRequestBody = (req as { body?: unknown }).body;
  } else {
    teeRequest(req, exchange.request);
  }
  teeResponse(res, exchange.response);
  const done = () => {
    exchange.requestIncomplete = !req.complete && exchange.parsedRequestBody === undefined;
    exchange.request.seal();
    sink.enqueue(exchange);
  };
  let ended = false;
  const responseDone = () => {
    if (ended) return;
    ended = true;
    exchange.finish(res);
    if (route.label === null && frameworkRoute) {
      const matched = frameworkRoute();
      exchange.frameworkRoute = typeof matched === 'string' ? matched : null;
    }
    // A body the app never read is drained by Node after the response; the tee sees it go by.
    if (req.readableEnded || exchange.parsedRequestBody !== undefined) done();
    else onFinished(req, done);
  };
  // The response's own 'finish' (sent whole) or 'close' (the connection went first; Node emits it on the
  // response for a closed socket too): two listeners, where on-finished adds a dozen and removes them.
  if (res.writableFinished || res.destroyed) setImmediate(responseDone);
  else {
    res.once('finish', responseDone);
    res.once('close', responseDone);
  }
  return exchange;
}
