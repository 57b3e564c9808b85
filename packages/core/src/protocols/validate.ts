import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { SchemaError } from './mapper';

/** Errors kept per validated body: enough to see what is wrong without storing a report bigger than the payload. */
const MAX_ERRORS = 20;
/** Values (objects, arrays, scalars) a payload may have for all of its errors to be listed. */
const LIST_ALL_UP_TO = 10_000;

let first: Ajv | null = null;
let all: Ajv | null = null;

function message(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return `${error.message}: ${JSON.stringify(error.params.additionalProperty)}`;
  if (error.keyword === 'enum')
    return `${error.message}: ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  return error.message ?? error.keyword;
}

/** Whether a JSON value has at most `limit` values in it; stops counting at the limit. */
function small(value: unknown, limit: number): boolean {
  let left = limit;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    if (--left < 0) return false;
    const item = stack.pop();
    if (item !== null && typeof item === 'object') for (const child of Object.values(item)) stack.push(child);
  }
  return true;
}

/** `value` with every BigInt as the nearest number (copy-on-write: the same reference when there is none). */
function withoutBigInts(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'object' || value === null || depth > 256) return value;
  let out: Record<string, unknown> | unknown[] | null = null;
  for (const [key, child] of Object.entries(value)) {
    const next = withoutBigInts(child, depth + 1);
    if (next === child) continue;
    out ??= Array.isArray(value) ? value.slice() : Object.defineProperties({}, Object.getOwnPropertyDescriptors(value));
    (out as Record<string, unknown>)[key] = next;
  }
  return out ?? value;
}

function compile(allErrors: boolean, schema: object): ValidateFunction {
  const options = { allErrors, strictSchema: true, strictTypes: true, strictTuples: true, allowUnionTypes: true } as const;
  if (allErrors) {
    all ??= new Ajv(options);
    return all.compile(schema);
  }
  first ??= new Ajv(options);
  return first.compile(schema);
}

/**
 * A JSON Schema compiled once, on first use, into a function that returns the ajv errors of a value as
 * schema errors of `part` (empty when the value is valid). Validation stops at the first error; only a
 * payload of at most LIST_ALL_UP_TO values is validated again for all of them, since with `allErrors`
 * ajv makes an error object for every bad element (a million-element `shape`) before any cap applies.
 */
export function schemaValidator(schema: object): (value: unknown, part: string) => SchemaError[] {
  let validateFirst: ValidateFunction | null = null;
  let validateAll: ValidateFunction | null = null;
  return (input, part) => {
    validateFirst ??= compile(false, schema);
    if (validateFirst(input)) return [];
    // ajv knows no BigInt (an integer beyond 2^53, exact-json.ts): such a payload is checked again with
    // them as numbers, which have the same JSON type (their exact ranges are checked by the mappers).
    const value = withoutBigInts(input);
    if (value !== input && validateFirst(value)) return [];
    let errors = validateFirst.errors ?? [];
    if (small(value, LIST_ALL_UP_TO)) {
      validateAll ??= compile(true, schema);
      validateAll(value);
      errors = validateAll.errors ?? errors;
    }
    return errors.slice(0, MAX_ERRORS).map((error) => ({ part, path: error.instancePath || '/', message: message(error) }));
  };
}
