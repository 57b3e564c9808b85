import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InferlogConfigError } from '@inferlog/core';
import { html } from '@inferlog/core/audit';
import { decideAccess, embeddedFromElsewhere, sameOrigin } from './access';
import { assetResponse } from './assets';
import { linker, type ConsoleContext } from './context';
import { openReader, type ReaderDatabase } from './database';
import { BusyError, workGate } from './gate';
import { renderPage, type Page } from './layout';
import { normalizeConsoleOptions, type ConsoleOptions, type NormalizedConsoleOptions } from './options';
import { ROUTES } from './routes';
import { SAFETY_HEADERS, send, type RawResponse } from './response';

/** The parts of a Koa context the console uses (Koa itself is not a dependency). */
export interface KoaContextLike {
  req: IncomingMessage;
  res: ServerResponse;
  respond?: boolean;
  /** The URL the request came with, before any mount took its prefix off. */
  originalUrl?: string;
  /** Set by koa-mount: the path the console is mounted at (the innermost mount's only). */
  mountPath?: string;
  /** A body parser's result (@koa/bodyparser). */
  request?: { body?: unknown };
}

const pathOf = (url: string) => url.split('?')[0]!;

/**
 * Where the console is mounted: the request's original path less the path the console sees (so mounts
 * within mounts and router prefixes all count), else what the framework says (`baseUrl`, `mountPath`).
 */
export function mountedAt(originalUrl: string | undefined, url: string | undefined, fallback: string | undefined): string {
  if (originalUrl !== undefined && url !== undefined) {
    const original = pathOf(originalUrl);
    const seen = pathOf(url);
    if (seen === '/' || seen === '') return original.replace(/\/+$/, '');
    if (original.endsWith(seen)) return original.slice(0, original.length - seen.length);
  }
  return (fallback ?? '').replace(/\/$/, '');
}

/**
 * The console as a request handler: Express or Connect middleware (`app.use('/audit', auth, handler)`),
 * Koa middleware (`app.use(mount('/audit', handler))`), or a plain `http.createServer` listener.
 */
export interface ConsoleHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  (ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void>;
  /** Closes the console's database connections. */
  close(): Promise<void>;
}

const MAX_FORM_BYTES = 64 * 1024;

/** A path parameter decoded; a malformed escape is kept as it came (it then matches nothing). */
function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A form an app's body parser already read (express.urlencoded, @koa/bodyparser): its fields as text. */
function parsedForm(body: unknown): URLSearchParams | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(body))
    for (const one of Array.isArray(value) ? value : [value]) if (typeof one === 'string') form.append(key, one);
  return form;
}

async function readForm(req: IncomingMessage, parsed: unknown): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    throw new InferlogConfigError('the console accepts forms only (application/x-www-form-urlencoded)');
  // Mounted after a body parser, the request has been read already: the parser's result is the form.
  if (req.readableEnded || req.complete) {
    const form = parsedForm(parsed);
    if (form) return form;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new InferlogConfigError(`the form is larger than ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function problemPage(status: number, title: string, message: string): Page {
  return { kind: 'page', status, title, section: null, body: html`<h1>${title}</h1><div class="error-box" role="alert">${message}</div>` };
}

/** A database error as what to do: the table missing, no permission, unreachable. Values in it are the request's own. */
function databaseProblem(err: unknown, options: NormalizedConsoleOptions, reader: ReaderDatabase | null): Page {
  const e = err as { code?: string; message?: string };
  if (err instanceof BusyError)
    return problemPage(
      503,
      'Busy',
      `The console is already running ${err.running} long tasks (monitoring, verification, export or a chain check), which hold the database's connections: try again when one has finished.`,
    );
  if (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|57P0[123])$/.test(e.code ?? '') ||
    /timeout exceeded when trying to connect|Connection terminated/i.test(e.message ?? '')
  )
    return problemPage(
      503,
      'No database',
      `The console cannot reach the database (${e.message ?? e.code}). Check that PostgreSQL is up and reachable, then reload.`,
    );
  if (e.code === '42P01')
    return problemPage(
      503,
      'No log here',
      `There is no inference log ${options.schema}.${options.table} in this database. Run "inferlog migrate" or check the schema and table options.`,
    );
  if (e.code === '42501')
    return problemPage(
      503,
      'Not allowed to read',
      `The database refused a read${reader?.role ? ` as role ${reader.role}` : ''}: ${e.message ?? ''}. Grant the role SELECT on the log's tables (inferlog migrate does so for inferlog_reader).`,
    );
  if (e.code === undefined)
    return problemPage(
      500,
      'The console could not answer',
      'An error in the console stopped this page; it was reported (onError, standard error by default).',
    );
  return problemPage(500, 'The console could not answer', `The database answered: ${e.message ?? String(err)}`);
}

/** Builds the console's request handler from its options (checked here, once). */
export function inferlogConsole(options: ConsoleOptions): ConsoleHandler {
  const normalized = normalizeConsoleOptions(options);
  const csrf = randomBytes(18).toString('base64url');
  const onError = (err: unknown) => {
    try {
      normalized.onError(err);
    } catch {
      // an error handler that throws has nowhere to report to
    }
  };
  // Two long tasks at most, so that pages keep a connection of the pool.
  const longWork = workGate(Math.max(1, normalized.maxConnections - 2));
  let reader: Promise<ReaderDatabase> | null = null;
  let closed = false;
  const open = () => {
    if (closed) throw new Error('the console was closed');
    reader ??= openReader(normalized.database, normalized.role, normalized.maxConnections).catch((err) => {
      reader = null;
      throw err;
    });
    return reader;
  };

  async function serve(req: IncomingMessage, res: ServerResponse, base: string, parsedBody: unknown): Promise<void> {
    const head = req.method === 'HEAD';
    // The path as sent: `//host/x` is a path here, not another host (`new URL('//host/x', base)` would read it so).
    const target = req.url ?? '/';
    const url = new URL(target.startsWith('/') ? `http://console.invalid${target}` : target);
    const href = linker(base);
    const minimal = { href, options: normalized, schema: normalized.schema, table: normalized.table };
    let current: ReaderDatabase | null = null;
    const answer = async (response: Page | RawResponse) => {
      if (response.kind === 'raw') return send(res, response, head);
      const layout = { ...minimal, reader: current };
      return send(
        res,
        {
          kind: 'raw',
          status: response.status ?? 200,
          headers: { 'content-type': 'text/html; charset=utf-8' },
          body: renderPage(layout, response),
        },
        head,
      );
    };
    try {
      const access = await decideAccess(req, url, normalized, `${base}/`);
      if (!access.allow)
        return await answer(problemPage(access.status, access.status === 401 ? 'Sign in needed' : 'Not allowed', access.reason));
      if (embeddedFromElsewhere(req))
        return await answer(
          problemPage(403, 'Not allowed', 'A page of another site may link to the console, but not load it, frame it or send it requests.'),
        );
      if ('setCookie' in access) {
        url.searchParams.delete('token');
        // One leading slash: `//host` would send the browser to another site.
        const path = `/${url.pathname.replace(/^\/+/, '')}`;
        return await answer({
          kind: 'raw',
          status: 303,
          headers: { location: href(path, url.searchParams), 'set-cookie': access.setCookie },
          body: null,
        });
      }
      const method = head ? 'GET' : req.method;
      if (method === 'GET' && url.pathname.startsWith('/assets/')) {
        const asset = assetResponse(url.pathname.slice('/assets/'.length), req.headers['if-none-match']);
        return await answer(asset ?? problemPage(404, 'Not found', 'There is no such file.'));
      }
      const routes = ROUTES.filter((r) => r.path.test(url.pathname));
      if (!routes.length) return await answer(problemPage(404, 'Not found', 'There is no such page in the console.'));
      const route = routes.find((r) => r.method === method);
      if (!route) {
        const allow = [...new Set(routes.flatMap((r) => (r.method === 'GET' ? ['GET', 'HEAD'] : [r.method])))].join(', ');
        res.setHeader('allow', allow);
        return await answer(
          problemPage(405, 'Not allowed', `This page answers ${allow} only: the console reads the log and never changes it.`),
        );
      }
      let form: URLSearchParams | null = null;
      if (route.method === 'POST') {
        form = await readForm(req, parsedBody);
        if (!sameOrigin(req) || form.get('csrf') !== csrf)
          return await answer(
            problemPage(403, 'Not allowed', "This action can only be started from the console's own page: reload the page and try again."),
          );
      }
      try {
        current = await open();
      } catch (err) {
        return await answer(problemPage(503, 'No database', `The console could not connect to the database: ${(err as Error).message}`));
      }
      const ctx: ConsoleContext = {
        db: current.db,
        schema: normalized.schema,
        table: normalized.table,
        options: normalized,
        reader: current,
        req,
        url,
        params: route.path.exec(url.pathname)!.slice(1).map(decodeParam),
        form,
        csrf,
        longWork,
        href,
      };
      let response: Page | RawResponse;
      try {
        response = await route.handle(ctx);
      } catch (err) {
        if (err instanceof InferlogConfigError)
          return await answer(problemPage(400, 'Cannot show this', err.message.replace(/^inferlog: /, '')));
        if (!(err instanceof BusyError) && !(err as { code?: string }).code) onError(err);
        return await answer(databaseProblem(err, normalized, current));
      }
      // A download the client abandons fails here, after its headers: the outer catch ends the connection.
      return await answer(response);
    } catch (err) {
      // A download the client abandoned is no error of the console's.
      if (!(err instanceof InferlogConfigError) && (err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') onError(err);
      if (!res.headersSent) {
        res.statusCode = err instanceof InferlogConfigError ? 400 : 500;
        for (const [name, value] of Object.entries(SAFETY_HEADERS)) res.setHeader(name, value);
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(err instanceof InferlogConfigError ? err.message : 'inferlog console: internal error');
      } else res.destroy();
    }
  }

  const handler = (first: IncomingMessage | KoaContextLike, second: unknown, third?: unknown): void | Promise<void> => {
    if ('req' in first && 'res' in first) {
      first.respond = false;
      return serve(first.req, first.res, mountedAt(first.originalUrl, first.req.url, first.mountPath), first.request?.body);
    }
    const req = first as IncomingMessage & { baseUrl?: string; originalUrl?: string; body?: unknown };
    // serve answers every error itself; a failure to write the answer has nowhere else to go.
    void serve(req, second as ServerResponse, mountedAt(req.originalUrl, req.url, req.baseUrl), req.body).catch((err) => {
      if (typeof third === 'function') third(err);
    });
  };
  return Object.assign(handler as ConsoleHandler, {
    close: async () => {
      closed = true;
      const r = reader;
      reader = null;
      if (r) await (await r.catch(() => null))?.close();
    },
  });
}
