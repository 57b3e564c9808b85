// @inferlog/core/adapter: what a framework adapter needs (the Express and Koa packages use nothing else).
export { loggerFrom, withControls, type LoggerControls } from './controls';
export {
  startExchange,
  exchangeOf,
  annotate,
  type Exchange,
  type ExchangeSink,
  type CaptureRoute,
  type RequestTarget,
  type ThrownError,
} from './capture/exchange';
export { failClosedBody, refuseUnlogged } from './capture/fail-closed';
export { recordEvent, routeActor, type EventRouteOptions, type EventReply } from './events/http';
