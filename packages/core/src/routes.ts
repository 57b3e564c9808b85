import type { IncomingHttpHeaders } from 'node:http';
import type { ProtocolName } from './protocol';
import type { Mapper } from './protocols/mapper';
import type { Redactor } from './redact/redactor';
import type { RedactRule } from './redact/rules';
import { routedPath } from './request-path';

/** What a route predicate is shown of a request. */
export interface RouteRequest {
  method: string;
  /**
   * The path as the framework routes it: no scheme, host, query or fragment, still percent-encoded. Asked
   * first with the path where the middleware is mounted (`req.url`), then, if that did not select, with the
   * full path (`originalUrl`) when the two differ.
   */
  path: string;
  headers: IncomingHttpHeaders;
}

/**
 * Which requests a rule selects: an Express-style pattern (`/v2/models/:model/infer`,
 * optional parts in braces `{/versions/:version}`, a wildcard `*rest`, `\\:` for a literal
 * colon), a RegExp tested against the path, or a predicate.
 */
export type RoutePattern = string | RegExp | ((req: RouteRequest) => boolean);

/** A route rule with its own settings. */
export interface RouteRule {
  /** The pattern, RegExp or predicate that selects the request. */
  path: RoutePattern;
  /** HTTP methods the rule applies to (case-insensitive). Default: every method. */
  methods?: string[];
  /**
   * How the payloads on this route are mapped to the record: a protocol name (`oip-v2`, `kserve-v1`,
   * `openai`, `openai-chat`, `openai-completion`, `openai-embedding`, `raw`), `auto` to tell by the
   * payloads' shape, or your own {@link Mapper} function. Default `auto`.
   */
  protocol?: ProtocolName | Mapper;
  /** Fraction (0..1) of matching requests to log; overrides the global `sample`. */
  sample?: number;
  /** Redaction rules for this route, applied after the global `redact` rules. */
  redact?: RedactRule[];
}

/** An entry of the `routes` or `exclude` option. */
export type RouteSpec = RoutePattern | RouteRule;

/** A route rule after compilation: the only thing the hot path touches. */
export interface CompiledRoute {
  /** The pattern as written (escapes removed), stored as the record's `route`; null for RegExps and predicates. */
  readonly label: string | null;
  readonly protocol: ProtocolName | Mapper;
  /** Whether its responses may be streams, whose write times give the time to first token. */
  readonly mayStream: boolean;
  readonly sample: number;
  /** The redaction rules of this route (the global ones, then its own), compiled; null when there are none. */
  readonly redactor: Redactor | null;
  matches(method: string, path: string, headers: IncomingHttpHeaders): boolean;
  /** Named parameters of a string pattern (`model`, `version`), decoded. Called off the hot path. */
  params(path: string): Record<string, string>;
}

/** The routes inferlog selects when `routes` is not given: the common inference APIs. */
export const DEFAULT_ROUTES: readonly RouteRule[] = Object.freeze([
  { path: '/v2/models/:model/infer', methods: ['POST'], protocol: 'oip-v2' },
  { path: '/v2/models/:model/versions/:version/infer', methods: ['POST'], protocol: 'oip-v2' },
  { path: '/v1/models/:model\\:predict', methods: ['POST'], protocol: 'kserve-v1' },
  { path: '/v1/models/:model\\:explain', methods: ['POST'], protocol: 'kserve-v1' },
  { path: '/v1/chat/completions', methods: ['POST'], protocol: 'openai-chat' },
  { path: '/v1/completions', methods: ['POST'], protocol: 'openai-completion' },
  { path: '/v1/embeddings', methods: ['POST'], protocol: 'openai-embedding' },
]);

const PARAM_CHAR = /[A-Za-z0-9_]/;

/** Compiles an Express-style pattern into an anchored, case-insensitive RegExp with named keys. */
export function compilePattern(pattern: string): { regex: RegExp; keys: string[]; label: string } {
  if (!pattern.startsWith('/') && !pattern.startsWith('*')) {
    throw new Error(`route pattern "${pattern}" must start with "/"`);
  }
  const keys: string[] = [];
  let source = '';
  let label = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) {
      i++;
      source += escapeRegExp(pattern[i]!);
      label += pattern[i];
    } else if (ch === ':' || ch === '*') {
      let name = '';
      while (i + 1 < pattern.length && PARAM_CHAR.test(pattern[i + 1]!)) name += pattern[++i];
      if (ch === ':' && name === '') throw new Error(`route pattern "${pattern}" has ":" without a parameter name at ${i}`);
      keys.push(name || String(keys.length));
      source += ch === ':' ? '([^/]+?)' : '(.*)';
      label += ch + name;
    } else if (ch === '{') {
      depth++;
      source += '(?:';
      label += ch;
    } else if (ch === '}') {
      if (--depth < 0) throw new Error(`route pattern "${pattern}" has an unmatched "}"`);
      source += ')?';
      label += ch;
    } else {
      source += escapeRegExp(ch);
      label += ch;
    }
  }
  if (depth !== 0) throw new Error(`route pattern "${pattern}" has an unclosed "{"`);
  return { regex: new RegExp(`^${source}/?$`, 'i'), keys, label };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Compiles one route spec. `defaults` supply the sample a rule leaves out; `redactor` holds its compiled redaction rules. */
export function compileRoute(spec: RouteSpec, defaults: { sample: number }, redactor: Redactor | null = null): CompiledRoute {
  const rule: RouteRule = typeof spec === 'object' && !(spec instanceof RegExp) ? spec : { path: spec };
  const methods = rule.methods?.map((m) => m.toUpperCase());
  const methodOk = methods ? (method: string) => methods.includes(method) : () => true;
  const protocol = rule.protocol ?? 'auto';
  const mayStream = typeof protocol === 'function' || protocol === 'auto' || protocol.startsWith('openai');
  const sample = rule.sample ?? defaults.sample;
  const path = rule.path;

  if (typeof path === 'string') {
    const { regex, keys, label } = compilePattern(path);
    return {
      label,
      protocol,
      mayStream,
      sample,
      redactor,
      matches: (method, p) => methodOk(method) && regex.test(p),
      params(p) {
        const found = regex.exec(p);
        const out: Record<string, string> = {};
        if (!found) return out;
        keys.forEach((key, i) => {
          const value = found[i + 1];
          if (value !== undefined) out[key] = decodeParam(value);
        });
        return out;
      },
    };
  }
  if (path instanceof RegExp) {
    const regex = new RegExp(path.source, path.flags.replace(/[gy]/g, ''));
    return {
      label: null,
      protocol,
      mayStream,
      sample,
      redactor,
      matches: (method, p) => methodOk(method) && regex.test(p),
      params(p) {
        return Object.fromEntries(Object.entries(regex.exec(p)?.groups ?? {}).map(([k, v]) => [k, decodeParam(v)]));
      },
    };
  }
  return {
    label: null,
    protocol,
    mayStream,
    sample,
    redactor,
    matches: (method, p, headers) => methodOk(method) && path({ method, path: p, headers }) === true,
    params: () => ({}),
  };
}

/**
 * The compiled include and exclude lists; `select` is the one call made for every request.
 *
 * A request is matched by the path its framework routes it by (`routedPath`), seen two ways: relative to
 * where the middleware is mounted (`req.url`: inside `app.use('/api', router)` that is `/v2/models/m/infer`)
 * and in full (`originalUrl`: `/api/v2/models/m/infer`). A rule selects it when either form matches, so
 * patterns may be written relative to the mount point or in full; an exclude rule that matches either form
 * keeps it out. The first rule that matches decides, and its sample is drawn once.
 */
export class RouteSelector {
  constructor(
    private readonly include: readonly CompiledRoute[],
    private readonly exclude: readonly CompiledRoute[],
  ) {}

  /** The routes that select requests, in order: a writer thread names a request's route by its place here. */
  get routes(): readonly CompiledRoute[] {
    return this.include;
  }

  /**
   * The route that selects this request, or undefined when it is not logged (excluded, unmatched or not
   * sampled). `url` is the request target where the middleware runs (`req.url`); `originalUrl` the target
   * as the client sent it, when a router or mount has cut a prefix off `url`.
   */
  select(method: string, url: string, headers: IncomingHttpHeaders, originalUrl?: string): CompiledRoute | undefined {
    return this.decide(method, url, headers, originalUrl) ?? undefined;
  }

  /** Like `select`, but tells a request a rule matched and the sample left out (null) from one no rule selects (undefined). */
  decide(method: string, url: string, headers: IncomingHttpHeaders, originalUrl?: string): CompiledRoute | null | undefined {
    const path = routedPath(url);
    const full = originalUrl === undefined || originalUrl === url ? null : routedPath(originalUrl);
    const other = full === path ? null : full;
    if (path === null && other === null) return undefined;
    for (const route of this.exclude) if (matchesEither(route, method, path, other, headers)) return undefined;
    for (const route of this.include) {
      if (matchesEither(route, method, path, other, headers)) {
        return route.sample >= 1 || Math.random() < route.sample ? route : null;
      }
    }
    return undefined;
  }
}

function matchesEither(
  route: CompiledRoute,
  method: string,
  path: string | null,
  other: string | null,
  headers: IncomingHttpHeaders,
): boolean {
  return (path !== null && route.matches(method, path, headers)) || (other !== null && route.matches(method, other, headers));
}

/**
 * The route's parameters for an exchange: from the path relative to the mount point when the route
 * matched that one, else from the full path.
 */
export function routeParams(route: CompiledRoute, relative: string, full: string): Record<string, string> {
  const params = route.params(relative);
  return relative === full || Object.keys(params).length > 0 ? params : route.params(full);
}
