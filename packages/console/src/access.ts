// Who may see the console. With an `authenticate` function or a token, they decide. Without either, only
// a browser on this machine: the request came over loopback, named a loopback host (a page elsewhere
// that rebinds its DNS name to 127.0.0.1 sends its own host name and is refused), and passed no proxy
// (a reverse proxy on this machine would make every visitor look local).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NormalizedConsoleOptions } from './options';

/** The cookie a browser keeps after opening the console with `?token=`. */
export const TOKEN_COOKIE = 'inferlog_console';

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

/** The value of the token cookie: an HMAC of a fixed text under the token, so the cookie is not the token itself. */
export function tokenCookieValue(token: string): string {
  return createHmac('sha256', token).update('inferlog console session').digest('base64url');
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
  const kept = cookie(req, TOKEN_COOKIE);
  if (kept !== null && sameSecret(kept, tokenCookieValue(token))) return { allow: true };
  const given = url.searchParams.get('token');
  if (given !== null && sameSecret(given, token))
    return { allow: true, setCookie: `${TOKEN_COOKIE}=${tokenCookieValue(token)}; Path=${cookiePath}; HttpOnly; SameSite=Strict` };
  return {
    allow: false,
    status: 401,
    reason:
      'This console needs its token: open the address the console printed (it ends in ?token=…), or send Authorization: Bearer <token>.',
  };
}

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
    if (!(await options.authenticate(req)))
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
  if (req.headers.forwarded !== undefined || req.headers['x-forwarded-for'] !== undefined)
    return {
      allow: false,
      status: 403,
      reason: 'This console has no authentication and the request came through a proxy: give it a token or an authenticate function.',
    };
  return decision;
}

/**
 * Whether a POST comes from the console's own pages: the browser's `Sec-Fetch-Site` says same-origin, or
 * (older browsers) `Origin` names the host the request was sent to, or it carries an Authorization header
 * (a script's bearer token). A page elsewhere cannot start a verification or an export in a signed-in browser.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  // A header no page elsewhere can add without a CORS preflight, which the console never grants.
  if (req.headers.authorization !== undefined) return true;
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
