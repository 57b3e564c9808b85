// @inferlog/console: a read-only web console for an inferlog inference log. Mount `inferlogConsole` in
// an Express or Koa app behind its authentication, or run `startConsole` (the `inferlog console` command).
export { inferlogConsole, type ConsoleHandler, type KoaContextLike } from './handler';
export type { ConsoleOptions, ConsoleAuthenticate } from './options';
export { startConsole, type ConsoleServerOptions, type RunningConsole } from './server';
