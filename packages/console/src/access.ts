// Who may see the console. With an `authenticate` function or a token, they decide. Without either, only
// a browser on this machine: the request came over loopback, named a loopback host (a page elsewhere
// that rebinds its DNS name to 127.0.0.1 sends its own host name and is refused), and passed no proxy
// (a reverse proxy on this machine would make every visitor look local).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NormalizedConsoleOptions } from './options';

/** How long a browser's sign-in lasts (the cookie's Max-Age, and the age its MAC is accepted at). */
export const SESSION_SECONDS = 12 * 3600;

/** Whether an IP address is this machine's loopback (127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(address);
}

/** Whether a host name (as a listen address or a Host header, without the port) is loopback. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name);
}

function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^(\[[^\]]*\]|[^:]+)(:\d+)?$/.exec(header.trim());
  return match ? match[1]! : null;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

function cookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return null;
}

/**
 * The cookie of a console with this token: its name carries a digest of the token, so consoles with other
 * tokens on the same host (cookies are not kept apart by port) do not overwrite each other's.
 */
export function tokenCookieName(token: string): string {
  return `inferlog_console_${createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 12)}`;
}

/** A session cookie's value: when it was issued (UTC seconds) and an HMAC of that under the token, not the token. */
export function tokenCookieValue(token: string, issued: number): string {
  return `${issued}.${createHmac('sha256', token).update(`inferlog console session ${issued}`).digest('base64url')}`;
}

/** Whether a cookie value is one this token issued less than `SESSION_SECONDS` ago. */
function validSession(value: string, token: string, now: number): boolean {
  const issued = Number(/^(\d{1,12})\./.exec(value)?.[1]);
  if (!Number.isSafeInteger(issued) || issued > now + 60 || now - issued > SESSION_SECONDS) return false;
  return sameSecret(value, tokenCookieValue(token, issued));
}

/** What to do with a request. */
export type AccessDecision =
  | { allow: true }
  /** Opened with the right `?token=`: set the cookie and send the browser to the same page without it. */
  | { allow: true; setCookie: string }
  | { allow: false; status: 401 | 403; reason: string };

/** Whether the request carries the token: a bearer header, the cookie, or `?token=` (which earns the cookie). */
function tokenDecision(req: IncomingMessage, url: URL, token: string, cookiePath: string): AccessDecision {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer !== undefined && sameSecret(bearer.trim(), token)) return { allow: true };
  const now = Math.floor(Date.now() / 1000);
  const kept = cookie(req, tokenCookieName(token));
  if (kept !== null && validSession(kept, token, now)) return { allow: true };
  const given = url.searchParams.get('token');
  if (given !== null && sameSecret(given, token))
    return {
      allow: true,
      setCookie: `${tokenCookieName(token)}=${tokenCookieValue(token, now)}; Path=${cookiePath}; Max-Age=${SESSION_SECONDS}; HttpOnly; SameSite=Strict`,
    };
  return {
    allow: false,
    status: 401,
    reason:
      'This console needs its token: open the address the console printed (it ends in ?token=…), or send Authorization: Bearer <token>.',
  };
}

/**
 * Headers that proxies and CDNs add. A proxy that adds none (nginx's `proxy_pass` by default, which also
 * sets Host to the upstream's) cannot be told from a local browser: that is why `inferlog console` makes a
 * token unless told otherwise, and why a console behind a proxy needs a token or `authenticate`.
 */
const PROXY_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded',
  'x-real-ip',
  'via',
  'true-client-ip',
  'cf-connecting-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'fastly-client-ip',
];

/** Decides whether `req` may see the console, by the options' rules (see the top of this file). */
export async function decideAccess(
  req: IncomingMessage,
  url: URL,
  options: Pick<NormalizedConsoleOptions, 'authenticate' | 'token'>,
  cookiePath: string,
): Promise<AccessDecision> {
  let decision: AccessDecision = { allow: true };
  if (options.token !== null) {
    decision = tokenDecision(req, url, options.token, cookiePath);
    if (!decision.allow) return decision;
  }
  if (options.authenticate !== null) {
    // Only true lets in: a check written in JavaScript that returns an object or an error must not.
    if ((await options.authenticate(req)) !== true)
      return { allow: false, status: 403, reason: 'The application did not let this request see the console.' };
    return decision;
  }
  if (options.token !== null) return decision;
  const host = hostName(req.headers.host);
  if (!isLoopbackAddress(req.socket.remoteAddress) || host === null || !isLoopbackHost(host))
    return {
      allow: false,
      status: 403,
      reason:
        'This console has no authentication, so it serves only a browser on the same machine at http://127.0.0.1 or http://localhost. Give it a token (--token) or an authenticate function to serve others.',
    };
  if (PROXY_HEADERS.some((name) => req.headers[name] !== undefined))
    return {
      allow: false,
      status: 403,
      reason:
        "This console has no authentication and the request came through a proxy (it carries a proxy's header): give it a token or an authenticate function.",
    };
  return decision;
}

/**
 * Whether a POST comes from the console's own pages: the browser's `Sec-Fetch-Site` says same-origin, or
 * (older browsers) `Origin` names the host the request was sent to, or it carries a bearer token (a script:
 * a page elsewhere cannot add that header without a CORS preflight, which the console never grants). A page elsewhere cannot start a verification or an export in a signed-in browser.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  // A header no page elsewhere can add without a CORS preflight, which the console never grants.
  if (/^Bearer\s/i.test(req.headers.authorization ?? '')) return true;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * Whether the browser says the request comes from a page of another site or origin (`Sec-Fetch-Site`).
 * Such a page may open a console page by a link (a top-level navigation, GET); anything else it would
 * load — an image, a script, a frame, a fetch — is refused, so no page elsewhere can make the console work.
 */
export function fromElsewhere(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/** Whether a request from elsewhere is more than a top-level navigation by GET (see `fromElsewhere`). */
export function embeddedFromElsewhere(req: IncomingMessage): boolean {
  if (!fromElsewhere(req)) return false;
  const navigation =
    req.headers['sec-fetch-mode'] === 'navigate' && ['document', undefined].includes(req.headers['sec-fetch-dest'] as string | undefined);
  return !(navigation && (req.method === 'GET' || req.method === 'HEAD'));
}
