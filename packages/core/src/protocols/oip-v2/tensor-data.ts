import type { SchemaError } from '../mapper';
import { DATATYPES, type Datatype } from './schema';

const INTEGER_RANGES: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 2 ** 8 - 1],
  UINT16: [0, 2 ** 16 - 1],
  UINT32: [0, 2 ** 32 - 1],
  UINT64: [0, 2 ** 64 - 1],
  INT8: [-(2 ** 7), 2 ** 7 - 1],
  INT16: [-(2 ** 15), 2 ** 15 - 1],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  INT64: [-(2 ** 63), 2 ** 63 - 1],
};

/** Deeper nesting than any real tensor has; refusing it keeps the walk's recursion bounded. */
const MAX_DIMS = 64;

/** What a JSON element of each datatype must be, as a test and as words for the error. */
function elementRule(datatype: Datatype): [(value: unknown) => boolean, string] {
  const range = INTEGER_RANGES[datatype];
  if (range) {
    const [min, max] = range;
    return [(v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max, `an integer from ${min} to ${max}`];
  }
  if (datatype === 'BOOL') return [(v) => typeof v === 'boolean', 'true or false'];
  if (datatype === 'BYTES') return [(v) => typeof v === 'string', 'a string'];
  return [(v) => typeof v === 'number', 'a number'];
}

/**
 * What kind of value an element is, for an error message. Never the value itself: a schema error must
 * not repeat data that redaction rules would remove from `inputs`.
 */
function kindOf(value: unknown, integers: boolean): string {
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
