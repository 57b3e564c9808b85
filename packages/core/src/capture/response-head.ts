import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

type AnyFn = (...args: unknown[]) => unknown;

/** A header the headers argument does not name (as opposed to one it names with an undefined value, which Node refuses). */
const ABSENT = Symbol('absent');

/** What the head of a response looked like as it passed the middleware on its way to Node. */
export interface HeadNotes {
  /** The headers argument handed on to Node's `writeHead` (the app's, with the echo added), if any. */
  argument: unknown;
  /**
   * The `Content-Encoding` in force when the head passed here: the coding of the body bytes the tee sees.
   * An encoder mounted before inferlog (which wraps `res.write` beneath it) sets its header only after
   * this point and encodes beneath the tee too. Undefined until the head passed; null when there was none.
   */
  encoding: string | null | undefined;
  /** The connection was already gone when the head was written: Node drops such a response, none of it went out. */
  lost: boolean;
}

/**
 * Watches the response head by wrapping `res.writeHead`, which Node also calls for an implicit head (the
 * first `write`, `end` or `flushHeaders`); 1xx messages and trailers do not pass it and are untouched.
 * It adds the echo header (`echo`: name and value) only when the app did not set that header, in the form
 * the headers argument has — appended to a flat array or an array of pairs, added to a copy of an object,
 * or passed as the headers argument when there is none — so Node takes the same path with the same
 * headers it would have taken without inferlog (a `setHeader` beforehand would send it down the slow path,
 * which refuses arrays of pairs and folds duplicates of a flat array). When the app had set headers
 * before, Node is on that path already and the echo is set with `setHeader`. The app's arguments are
 * never mutated; a second `writeHead` goes to Node untouched (and throws there, as it would).
 */
export function watchHead(res: ServerResponse, echo: readonly [name: string, value: string] | null, notes: HeadNotes): void {
  const writeHead = res.writeHead as AnyFn;
  res.writeHead = function inferlogWriteHead(this: ServerResponse, ...args: unknown[]): ServerResponse {
    if (this.headersSent) return writeHead.apply(this, args) as ServerResponse;
    // writeHead(status[, reason][, headers]): Node reads the headers from the third argument when the second
    // is a reason or the third is given, else from the second.
    const at = typeof args[1] === 'string' || (args[2] !== undefined && args[2] !== null) ? 2 : 1;
    let headers = args[at];
    const declared = headerIn(headers, 'content-encoding');
    const encoding = headerText(declared === ABSENT ? this.getHeader('content-encoding') : declared);
    let passed = args;
    if (echo && !this.hasHeader(echo[0]) && headerIn(headers, echo[0]) === ABSENT) {
      if (this.getHeaderNames().length > 0) {
        // Headers were set before: Node merges the argument into them with setHeader (its slow path) anyway.
        this.setHeader(echo[0], echo[1]);
      } else {
        const withEcho = withHeader(headers, echo[0], echo[1]);
        if (withEcho !== headers) {
          headers = withEcho;
          passed = args.slice();
          passed[at] = headers;
        }
      }
    }
    const result = writeHead.apply(this, passed) as ServerResponse;
    notes.argument = headers;
    notes.encoding = encoding;
    notes.lost = this.destroyed || this.socket?.destroyed === true;
    return result;
  } as typeof res.writeHead;
}

/** A header's value in a writeHead headers argument (object, flat array or array of pairs), or ABSENT when it is not named there. */
function headerIn(headers: unknown, lowerName: string): unknown {
  if (headers === null || typeof headers !== 'object') return ABSENT;
  if (Array.isArray(headers)) {
    if (Array.isArray(headers[0])) {
      for (const pair of headers) if (Array.isArray(pair) && String(pair[0]).toLowerCase() === lowerName) return pair[1];
      return ABSENT;
    }
    for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === lowerName) return headers[i + 1];
    return ABSENT;
  }
  for (const key of Object.keys(headers)) if (key.toLowerCase() === lowerName) return (headers as Record<string, unknown>)[key];
  return ABSENT;
}

/** A copy of the headers argument with one header more, in its own form; the argument itself when it has none Node reads. */
function withHeader(headers: unknown, name: string, value: string): unknown {
  if (headers === undefined || headers === null) return { [name]: value };
  if (Array.isArray(headers)) {
    if (headers.length === 0) return [name, value];
    if (Array.isArray(headers[0])) return [...headers, [name, value]];
    // An odd-length flat array is refused by Node: leave it as the app gave it.
    return headers.length % 2 === 0 ? [...headers, name, value] : headers;
  }
  return typeof headers === 'object' ? { ...headers, [name]: value } : headers;
}

function headerText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return Array.isArray(value) ? value.map(String).join(', ') : String(value);
}

/**
 * The headers sent with the response. When the app had set none beforehand, Node sends a writeHead
 * argument as it is and `getHeaders()` stays empty: the argument is read instead (names lower-cased,
 * repeated names gathered into arrays, as `getHeaders()` would have them).
 */
export function sentHeaders(res: ServerResponse, notes: HeadNotes): OutgoingHttpHeaders {
  const set = res.getHeaders();
  if (notes.argument === undefined || notes.argument === null || typeof notes.argument !== 'object') return set;
  for (const _ in set) return set;
  const out: OutgoingHttpHeaders = {};
  const add = (name: unknown, value: unknown) => {
    if (value === undefined || value === null) return;
    const key = String(name).toLowerCase();
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    const had = out[key];
    out[key] = had === undefined ? (values.length === 1 ? values[0] : values) : [...(Array.isArray(had) ? had : [String(had)]), ...values];
  };
  const headers = notes.argument;
  if (Array.isArray(headers)) {
    if (Array.isArray(headers[0])) for (const pair of headers) add((pair as unknown[])[0], (pair as unknown[])[1]);
    else for (let i = 0; i + 1 < headers.length; i += 2) add(headers[i], headers[i + 1]);
  } else {
    for (const key of Object.keys(headers)) add(key, (headers as Record<string, unknown>)[key]);
  }
  return out;
}
