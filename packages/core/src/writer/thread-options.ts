import type { InferenceLogOptions, ResolvedOptions } from '../options';
import type { RouteSpec } from '../routes';

/** Stands in for a route predicate in the writer thread, which never selects: only the route's place and settings matter there. */
const NEVER = /(?!)/;

const withoutPredicate = (spec: RouteSpec): RouteSpec =>
  typeof spec === 'function'
    ? NEVER
    : typeof spec === 'object' && !(spec instanceof RegExp) && typeof spec.path === 'function'
      ? { ...spec, path: NEVER }
      : spec;

/**
 * The options a writer thread is started with, or null when the writer stays in this thread: the
 * `worker: false` option, the embedded store (one owner per process, this thread), a mapper function as
 * a route's protocol, or anything else that cannot be copied to a thread (a `database` config holding
 * functions). Callbacks stay here: the thread tells this one and this one calls them.
 */
export function threadOptions(options: InferenceLogOptions, resolved: ResolvedOptions): InferenceLogOptions | null {
  if (options.worker === false || resolved.database === 'embedded') return null;
  if (resolved.selector.routes.some((route) => typeof route.protocol === 'function')) return null;
  const { onError: _onError, onDrop: _onDrop, exclude: _exclude, worker: _worker, routes, ...rest } = options;
  const sent: InferenceLogOptions = { ...rest, database: resolved.database, ...(routes ? { routes: routes.map(withoutPredicate) } : {}) };
  try {
    return structuredClone(sent);
  } catch {
    return null;
  }
}
