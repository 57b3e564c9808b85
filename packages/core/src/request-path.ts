import { parse } from 'node:url';

/** Characters that send `parseurl` from its fast path to the full URL parser (which also turns `\` into `/`). */
const NOT_PLAIN = /[\t\n\f\r #\u00a0\ufeff]/;

/**
 * The path of a request target as Express 5's router, Koa and @koa/router route it: the `pathname` that
 * `parseurl` gives (they all use it). A plain `/path?query` is cut at the `?`; anything else — the absolute
 * form `scheme://user@host:port/path`, a `#fragment`, white space — goes through Node's `url.parse`, as
 * `parseurl` does, so scheme, host and fragment are dropped and backslashes before them become slashes.
 * The path stays percent-encoded. Null when there is no path the routers could match (they answer 404).
 */
export function routedPath(target: string): string | null {
  if (target.charCodeAt(0) === 0x2f /* / */ && !NOT_PLAIN.test(target)) {
    const query = target.indexOf('?');
    return query === -1 ? target : target.slice(0, query);
  }
  try {
    return parse(target).pathname ?? null;
  } catch {
    return null;
  }
}
