import type { IncomingMessage } from 'node:http';
import type { Database } from '@inferlog/core/audit';
import type { ReaderDatabase } from './database';
import type { WorkGate } from './gate';
import type { NormalizedConsoleOptions } from './options';

/** Query parameters for a link: undefined and empty values are left out. */
export type LinkParams = Record<string, string | undefined> | URLSearchParams;

/** What a page handler gets: the log, the request, and how to link within the console. */
export interface ConsoleContext {
  db: Database;
  schema: string;
  table: string;
  options: NormalizedConsoleOptions;
  reader: ReaderDatabase;
  req: IncomingMessage;
  /** The request's path and query, relative to where the console is mounted. */
  url: URL;
  /** Path parameters the route captured. */
  params: string[];
  /** The fields of a POSTed form; null on GET. */
  form: URLSearchParams | null;
  /** The value every form of this console carries in its `csrf` field. */
  csrf: string;
  /** Where long work takes its place (monitoring, verification, export, a chain check). */
  longWork: WorkGate;
  /** A link to a console path (`/records`) with query parameters, under the mount path. */
  href(path: string, params?: LinkParams): string;
}

/** `href` for a console mounted at `base` (`''` at the root, `/audit` under Express's `app.use('/audit', …)`). */
export function linker(base: string): ConsoleContext['href'] {
  return (path, params) => {
    const query = new URLSearchParams();
    if (params)
      for (const [key, value] of params instanceof URLSearchParams ? params.entries() : Object.entries(params))
        if (value !== undefined && value !== '') query.append(key, value);
    const search = query.toString();
    return `${base}${path}${search ? `?${search}` : ''}`;
  };
}
