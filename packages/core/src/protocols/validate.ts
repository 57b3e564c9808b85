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
  return (value, part) => {
    validateFirst ??= compile(false, schema);
    if (validateFirst(value)) return [];
    let errors = validateFirst.errors ?? [];
    if (small(value, LIST_ALL_UP_TO)) {
      validateAll ??= compile(true, schema);
      validateAll(value);
      errors = validateAll.errors ?? errors;
    }
    return errors.slice(0, MAX_ERRORS).map((error) => ({ part, path: error.instancePath || '/', message: message(error) }));
  };
}
