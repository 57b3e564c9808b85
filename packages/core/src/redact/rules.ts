import { jsonpath, JSONPathEnvironment, TokenKind, type JSONPathQuery, type JSONValue } from 'json-p3';
import { InferlogConfigError } from '../errors';
import { MAX_JSON_DEPTH } from '../json';
import { compileAction, REDACT_ACTIONS, type CompiledAction, type RedactAction } from './actions';
import { detector, DETECTOR_NAMES, type Detector, type DetectorName } from './detectors';
import type { Location } from './update';

/**
 * A redaction rule: what to select (a JSONPath, a tensor by name, or personal data found by detectors)
 * and what to do with it. Rules run off the request path, before the record leaves memory.
 */
export interface RedactRule {
  /** Recorded in the row's `redactions` when the rule fires. Default: the path, `input:<name>`, `output:<name>`, or the detector's name. */
  id?: string;
  /**
   * A JSONPath (RFC 9535) into the record: `$.parameters.user_email`, `$..password`,
   * `$.inputs[?@.name=='ssn'].data`, `$.request_headers['x-user']`, `$.request_body.customer.name`.
   * The record's parts are `path` (percent-decoded), `route` (only a route the framework reported for a RegExp or
   * predicate rule, percent-decoded: it can hold values), `request_id`, `inference_id`, `parameters`, `inputs`, `outputs`, `response_parameters`, `usage`,
   * `error`, `annotations`, `request_headers`, `response_headers`, `request_body`, `response_body`
   * (raw bodies as parsed JSON when they are JSON) and `schema_errors`; on oversight events `actor` and `type`.
   */
  path?: string;
  /** Several JSONPaths, each as `path`. */
  paths?: string[];
  /** The `data` of the input tensor(s) of this name (shorthand for `$.inputs[?@.name=='…'].data`). */
  input?: string | string[];
  /** The `data` of the output tensor(s) of this name. */
  output?: string | string[];
  /**
   * Finds personal data in free text: `email`, `phone` (international and Dutch formats), `iban`
   * (mod-97 checked), `bsn` (Dutch citizen service number, 11-proef), `creditcard` (Luhn), `ipv4`, `ipv6`.
   * Alone, searches every text (and key) of the record; with a path, only inside what the path selects.
   */
  detect?: DetectorName | DetectorName[];
  /**
   * `remove` drops the value (or the found text); `mask` puts `censor` in place of every value inside it;
   * `hash` puts a keyed pseudonym (`hmac:` + HMAC-SHA-256 with `hmacKey`, 128 bits) in place of every value,
   * so equal values stay joinable; `truncate` keeps the first `keep` characters (or list elements), but does
   * not cut a text inside a value the route's detectors find in it (the cut moves to that value's start).
   */
  action: RedactAction;
  /** For `mask`: what replaces each value. Default `[REDACTED]`. */
  censor?: string;
  /** For `truncate`: characters (or list elements) kept. */
  keep?: number;
}

/**
 * The parts a protocol maps out of a payload. A rule for one of them was written for the mapped record:
 * it cannot reach the same values in a raw body the mapper kept because it could not map the payload.
 */
export const PAYLOAD_FIELDS: readonly string[] = [
  'inference_id',
  'parameters',
  'inputs',
  'outputs',
  'response_parameters',
  'usage',
  'error',
];

/** The parts of a record rules see, as the root of their JSONPaths. */
export const RECORD_PARTS = [
  'path',
  'request_id',
  'inference_id',
  'parameters',
  'inputs',
  'outputs',
  'response_parameters',
  'usage',
  'error',
  'annotations',
  'request_headers',
  'response_headers',
  'request_body',
  'response_body',
  'schema_errors',
  'model_name',
  'model_version',
  'route',
  'actor',
  'type',
] as const;
export type RecordPart = (typeof RECORD_PARTS)[number];

export interface CompiledSelector {
  label: string;
  /** The parts of the record the path starts at; null for one that can select anywhere (`$..name`, `$[*]`). */
  parts: readonly RecordPart[] | null;
  /** The locations the path selects in a document (normalized paths as key/index lists). */
  find(document: unknown): Location[];
}

export interface CompiledRule {
  /** What the rule selects; null for detectors over the whole record. */
  selectors: CompiledSelector[] | null;
  detectors: Detector[];
  action: CompiledAction;
  /** The rule's `id`, if it has one (otherwise each selector or detector is named by itself). */
  id: string | null;
}

// Records are cut at MAX_JSON_DEPTH before rules see them, so a `..` never meets a deeper document.
const jsonPath = new JSONPathEnvironment({ maxRecursionDepth: MAX_JSON_DEPTH + 10 });
const RULE_KEYS = ['id', 'path', 'paths', 'input', 'output', 'detect', 'action', 'censor', 'keep'];

// `$..name` (or `$..['name']`), the most common redaction path, has a walk of its own: the general
// evaluator makes a node object for every value it passes, which on a large tensor costs milliseconds.
const DESCENDANT_NAME = /^\$\.\.(?:([A-Za-z_][A-Za-z0-9_]*)|\[\s*'([^'\\]*)'\s*\])$/;

/** The locations of every member named `name`, at any depth, in document order (as `$..name` selects them). */
export function descendantsNamed(document: unknown, name: string): Location[] {
  const found: Location[] = [];
  const path: (string | number)[] = [];
  const walk = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (typeof value[i] !== 'object' || value[i] === null) continue;
        path.push(i);
        walk(value[i]);
        path.pop();
      }
      return;
    }
    if (Object.hasOwn(value, name)) found.push([...path, name]);
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const child = (value as Record<string, unknown>)[key];
      if (typeof child !== 'object' || child === null) continue;
      path.push(key);
      walk(child);
      path.pop();
    }
  };
  walk(document);
  return found;
}

function fail(message: string): never {
  throw new InferlogConfigError(message);
}

function list<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function strings(where: string, value: unknown): string[] {
  const items = list(value as string | string[] | undefined);
  if (items.length === 0 || !items.every((item) => typeof item === 'string' && item !== ''))
    fail(`option "${where}" must be a non-empty string or a list of them`);
  return items;
}

/** The names a segment selects when it selects only by name (`.a`, `['a','b']`); null when it can select anything else (`..`, `*`, an index, a filter). */
function segmentNames(segment: jsonpath.JSONPathSegment | undefined): string[] | null {
  if (!segment || segment.token.kind === TokenKind.DDOT) return null;
  const names = segment.selectors.map((sel) => (sel instanceof jsonpath.selectors.NameSelector ? sel.name : null));
  return names.every((n) => n !== null) ? (names as string[]) : null;
}

function compilePath(where: string, path: string, label: string): CompiledSelector {
  if (path.trim() === '$') fail(`option "${where}": "$" selects the whole record; select a part of it, e.g. $.parameters`);
  let query: JSONPathQuery;
  try {
    query = jsonPath.compile(path);
  } catch (err) {
    fail(`option "${where}": ${JSON.stringify(path)} is not a valid JSONPath (RFC 9535): ${(err as Error).message}`);
  }
  // The parts the path starts at, read from the parsed query (not the text: `$ .a` and `$['a','b']` start at parts too).
  const { segments } = query;
  const parts = segmentNames(segments[0]);
  for (const part of parts ?? []) {
    if (!(RECORD_PARTS as readonly string[]).includes(part)) {
      fail(
        `option "${where}": ${JSON.stringify(path)} starts at "${part}", which is not a part of the record; paths start at one of ${RECORD_PARTS.map((p) => `$.${p}`).join(', ')} (or $..name to search everywhere)`,
      );
    }
  }
  if (parts?.some((p) => p === 'request_headers' || p === 'response_headers')) {
    const upper = segmentNames(segments[1])?.find((name) => name !== name.toLowerCase());
    if (upper !== undefined)
      fail(
        `option "${where}": ${JSON.stringify(path)} names the header "${upper}", but header names are stored in lower case: write "${upper.toLowerCase()}"`,
      );
  }
  const name = DESCENDANT_NAME.exec(path);
  const find = name
    ? (document: unknown) => descendantsNamed(document, (name[1] ?? name[2])!)
    : (document: unknown) => query.query(document as JSONValue).locations();
  return { label, parts: (parts as RecordPart[] | null) ?? null, find };
}

/** The JSONPath of the `data` of tensors named `name` in `field`. */
function tensorData(field: 'inputs' | 'outputs', name: string): string {
  return `$.${field}[?@.name==${JSON.stringify(name)}].data`;
}

/**
 * Validates and compiles one rule (JSONPaths parsed, detectors looked up, the action bound to its
 * settings). `where` names it in errors, e.g. `redact[2]`. `key` is the HMAC key, required by `hash`.
 */
export function compileRule(where: string, rule: unknown, key: Buffer | null): CompiledRule {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule))
    fail(`option "${where}" must be a rule object { path | paths | input | output | detect, action, … }`);
  const r = rule as Record<string, unknown>;
  for (const name of Object.keys(r))
    if (!RULE_KEYS.includes(name)) fail(`unknown option "${where}.${name}"; known options are: ${RULE_KEYS.join(', ')}`);
  if (!REDACT_ACTIONS.includes(r.action as RedactAction))
    fail(`option "${where}.action" must be one of ${REDACT_ACTIONS.join(', ')}; got ${JSON.stringify(r.action)}`);
  if (r.id !== undefined && (typeof r.id !== 'string' || r.id === '')) fail(`option "${where}.id" must be a non-empty string`);
  if (r.censor !== undefined && (typeof r.censor !== 'string' || r.action !== 'mask'))
    fail(`option "${where}.censor" must be a string, and only goes with action "mask"`);
  if (r.action === 'truncate' ? !(Number.isInteger(r.keep) && (r.keep as number) >= 0) : r.keep !== undefined) {
    fail(
      `option "${where}.keep" ${r.action === 'truncate' ? 'must be a whole number ≥ 0 for action "truncate"' : 'only goes with action "truncate"'}`,
    );
  }
  if (r.action === 'hash' && !key)
    fail(`option "${where}" hashes, which needs a key: set the "hmacKey" option or INFERLOG_HMAC_KEY (at least 16 bytes, kept secret)`);

  if (r.path !== undefined && (typeof r.path !== 'string' || r.path === ''))
    fail(`option "${where}.path" must be one JSONPath string (use "paths" for several)`);
  const selectors: CompiledSelector[] = [
    ...(r.path !== undefined ? [r.path as string] : []).map((p) => compilePath(`${where}.path`, p, p)),
    ...(r.paths !== undefined ? strings(`${where}.paths`, r.paths) : []).map((p, i) => compilePath(`${where}.paths[${i}]`, p, p)),
    ...(r.input !== undefined ? strings(`${where}.input`, r.input) : []).map((n) =>
      compilePath(`${where}.input`, tensorData('inputs', n), `input:${n}`),
    ),
    ...(r.output !== undefined ? strings(`${where}.output`, r.output) : []).map((n) =>
      compilePath(`${where}.output`, tensorData('outputs', n), `output:${n}`),
    ),
  ];
  const detectors = list(r.detect as DetectorName | DetectorName[] | undefined).map((name) => {
    if (!DETECTOR_NAMES.includes(name))
      fail(`option "${where}.detect" has unknown detector ${JSON.stringify(name)}; detectors are: ${DETECTOR_NAMES.join(', ')}`);
    return detector(name);
  });
  if (selectors.length === 0 && detectors.length === 0)
    fail(`option "${where}" selects nothing: give path, paths, input, output or detect`);
  return {
    selectors: selectors.length > 0 ? selectors : null,
    detectors,
    action: compileAction(r.action as RedactAction, {
      censor: (r.censor as string | undefined) ?? '[REDACTED]',
      keep: (r.keep as number | undefined) ?? 0,
      key,
    }),
    id: (r.id as string | undefined) ?? null,
  };
}
