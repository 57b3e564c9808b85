import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { SchemaError } from './mapper';

/** Errors kept per validated body: enough to see what is wrong without storing a report bigger than the payload. */
const MAX_ERRORS = 20;

let ajv: Ajv | null = null;

function message(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return `${error.message}: ${JSON.stringify(error.params.additionalProperty)}`;
  if (error.keyword === 'enum') return `${error.message}: ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  return error.message ?? error.keyword;
}

/**
 * A JSON Schema compiled once, on first use, into a function that returns the ajv errors of a value as
 * schema errors of `part` (empty when the value is valid).
 */
export function schemaValidator(schema: object): (value: unknown, part: string) => SchemaError[] {
  let validate: ValidateFunction | null = null;
  return (value, part) => {
    ajv ??= new Ajv({ allErrors: true, strictSchema: true, strictTypes: true, strictTuples: true, allowUnionTypes: true });
    validate ??= ajv.compile(schema);
    if (validate(value)) return [];
    return (validate.errors ?? []).slice(0, MAX_ERRORS).map((error) => ({ part, path: error.instancePath || '/', message: message(error) }));
  };
}
