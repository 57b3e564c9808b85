import type { SchemaError } from '../mapper';
import { DATATYPES, type Datatype } from './schema';

/** Exact bounds (as BigInt: 2 ** 64 - 1 as a double is 2 ** 64). */
const INTEGER_RANGES: Partial<Record<Datatype, readonly [bigint, bigint]>> = {
  UINT8: [0n, 2n ** 8n - 1n],
  UINT16: [0n, 2n ** 16n - 1n],
  UINT32: [0n, 2n ** 32n - 1n],
  UINT64: [0n, 2n ** 64n - 1n],
  INT8: [-(2n ** 7n), 2n ** 7n - 1n],
  INT16: [-(2n ** 15n), 2n ** 15n - 1n],
  INT32: [-(2n ** 31n), 2n ** 31n - 1n],
  INT64: [-(2n ** 63n), 2n ** 63n - 1n],
};

/**
 * Whether an element is an integer from `min` to `max`, compared exactly: a BigInt (an integer literal
 * beyond 2^53, exact-json.ts) as it is, a double that is a whole number by its exact value (`9.3e18` is
 * 9300000000000000000, past INT64).
 */
function integerIn(value: unknown, min: bigint, max: bigint): boolean {
  if (typeof value === 'bigint') return value >= min && value <= max;
  if (typeof value !== 'number' || !Number.isInteger(value)) return false;
  const exact = BigInt(value);
  return exact >= min && exact <= max;
}

/** Deeper nesting than any real tensor has; refusing it keeps the walk's recursion bounded. */
const MAX_DIMS = 64;

/** What a JSON element of each datatype must be, as a test and as words for the error. */
function elementRule(datatype: Datatype): [(value: unknown) => boolean, string] {
  const range = INTEGER_RANGES[datatype];
  if (range) {
    const [min, max] = range;
    return [(v) => integerIn(v, min, max), `an integer from ${min} to ${max}`];
  }
  if (datatype === 'BOOL') return [(v) => typeof v === 'boolean', 'true or false'];
  if (datatype === 'BYTES') return [(v) => typeof v === 'string', 'a string'];
  return [(v) => typeof v === 'number' || typeof v === 'bigint', 'a number'];
}

/**
 * What kind of value an element is, for an error message. Never the value itself: a schema error must
 * not repeat data that redaction rules would remove from `inputs`.
 */
function kindOf(value: unknown, integers: boolean): string {
  if (typeof value === 'bigint') return integers ? 'a whole number out of range' : 'a number';
  if (typeof value === 'number') return !integers ? 'a number' : Number.isInteger(value) ? 'a whole number out of range' : 'a fraction';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Elements a shape holds (the product of its dimensions); NaN for a shape that is not a list of whole numbers. */
export function elementCount(shape: unknown): number {
  if (!Array.isArray(shape)) return Number.NaN;
  let count = 1;
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 0) return Number.NaN;
    count *= dim;
  }
  return count;
}

/**
 * Elements per sample of a tensor of this shape: the product of shape[1..] for 2 or more dimensions
 * (shape[0] is the batch), shape[0] for one, 1 for a scalar (`[]`); null when the shape is not a list
 * of whole numbers from 0 (a dynamic `-1`, text, missing).
 */
export function elementsPerSample(shape: unknown): number | null {
  if (!Array.isArray(shape) || Number.isNaN(elementCount(shape))) return null;
  const n = elementCount(shape.length >= 2 ? shape.slice(1) : shape);
  return Number.isSafeInteger(n) ? n : null;
}

/** The first `n` leaves of `data`, depth-first (nested arrays flattened in row-major order); fewer when it holds fewer. */
export function firstLeaves(data: unknown, n: number): unknown[] {
  const out: unknown[] = [];
  const walk = (value: unknown): void => {
    if (!Array.isArray(value)) {
      out.push(value);
      return;
    }
    for (const v of value) {
      if (out.length >= n) return;
      walk(v);
    }
  };
  if (n > 0 && data !== undefined && data !== null) walk(data);
  return out;
}

/**
 * Checks a tensor's `data` against its `datatype` and `shape` (OIP "Tensor Data": row-major, flat or
 * nested; a nested one must nest exactly as the shape says). Reports the first problem only: one bad
 * element in a million says enough. `where` is the tensor's JSON pointer.
 */
export function checkTensorData(tensor: Record<string, unknown>, part: string, where: string): SchemaError | null {
  const { datatype, shape, data } = tensor;
  if (!Array.isArray(data) || !DATATYPES.includes(datatype as Datatype)) return null;
  const expected = elementCount(shape);
  if (Number.isNaN(expected)) return null;
  if ((shape as number[]).length > MAX_DIMS) return { part, path: `${where}/shape`, message: `has more than ${MAX_DIMS} dimensions` };
  const [valid, words] = elementRule(datatype as Datatype);
  const dims = shape as number[];
  const nested = data.some(Array.isArray);
  let count = 0;
  let problem: SchemaError | null = null;

  const walk = (values: unknown[], depth: number, pointer: string): void => {
    if (nested && values.length !== dims[depth]) {
      problem ??= {
        part,
        path: pointer,
        message: `has ${values.length} elements where shape ${JSON.stringify(shape)} has ${dims[depth] ?? 'no dimension'} at depth ${depth}`,
      };
    }
    for (let i = 0; i < values.length && !problem; i++) {
      const value = values[i];
      if (Array.isArray(value)) {
        walk(value, depth + 1, `${pointer}/${i}`);
      } else if (nested && depth !== dims.length - 1) {
        problem = {
          part,
          path: `${pointer}/${i}`,
          message: `is an element where shape ${JSON.stringify(shape)} nests ${dims.length} deep`,
        };
      } else if (!valid(value)) {
        problem = {
          part,
          path: `${pointer}/${i}`,
          message: `must be ${words} for datatype ${String(datatype)}; got ${kindOf(value, INTEGER_RANGES[datatype as Datatype] !== undefined)}`,
        };
      } else {
        count++;
      }
    }
  };
  walk(data, 0, `${where}/data`);
  if (problem) return problem;
  if (count !== expected) {
    return { part, path: `${where}/data`, message: `has ${count} elements; shape ${JSON.stringify(shape)} needs ${expected}` };
  }
  return null;
}
