import { storedBytesData } from '../stored-bytes';

/** An OIP-shaped tensor, as stored in `inputs` and `outputs`. */
export interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
  parameters?: Record<string, unknown>;
}

/** Nesting followed when inferring a shape; deeper values count as elements. */
const MAX_DEPTH = 32;

/** Dimensions of a rectangular nested array, or null when it is ragged (or deeper than MAX_DEPTH). */
function rectangularShape(value: unknown[]): number[] | null {
  const dims: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe) && dims.length < MAX_DEPTH) {
    dims.push(probe.length);
    probe = probe[0];
  }
  const fits = (node: unknown, depth: number): boolean => {
    if (depth === dims.length) return !Array.isArray(node);
    return Array.isArray(node) && node.length === dims[depth] && node.every((child) => fits(child, depth + 1));
  };
  return fits(value, 0) ? dims : null;
}

function leaves(value: unknown[], depth: number): unknown[] {
  return depth <= 1 ? value : value.flat(depth - 1);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** INT64 for whole numbers that fit it, UINT64 for those that fit only it, else FP64 (a BigInt is an integer literal beyond 2^53). */
function integerDatatype(elements: (number | bigint)[]): string {
  let unsigned = false;
  for (const v of elements) {
    if (typeof v === 'number' && !Number.isInteger(v)) return 'FP64';
    const exact = BigInt(v);
    if (exact < INT64_MIN || exact > UINT64_MAX) return 'FP64';
    if (exact > INT64_MAX) unsigned = true;
  }
  if (unsigned && elements.some((v) => v < 0)) return 'FP64';
  return unsigned ? 'UINT64' : 'INT64';
}

/** The OIP datatype of JSON elements: BOOL, INT64 (UINT64 past it), FP64 or BYTES (strings, and JSON values, marked `content_type: json`). */
function datatypeOf(elements: unknown[]): { datatype: string; json: boolean } {
  if (elements.length > 0 && elements.every((v) => typeof v === 'boolean')) return { datatype: 'BOOL', json: false };
  if (elements.length > 0 && elements.every((v) => typeof v === 'number' || typeof v === 'bigint')) {
    return { datatype: integerDatatype(elements as (number | bigint)[]), json: false };
  }
  return { datatype: 'BYTES', json: !elements.every((v) => typeof v === 'string') };
}

/**
 * The tensor for a JSON value that carries no datatype (a KServe v1 `instances` list, OpenAI messages):
 * a rectangular array keeps its nesting as the shape; anything else is a list of elements. Numbers are
 * INT64 or FP64, strings BYTES (in the stored form of bytes: stored-bytes.ts); objects and mixed values are
 * BYTES with `parameters.content_type: "json"`.
 */
export function tensorOf(name: string, value: unknown): Tensor {
  const values = Array.isArray(value) ? value : [value];
  const shape = rectangularShape(values) ?? [values.length];
  const { datatype, json } = datatypeOf(leaves(values, shape.length));
  const data = datatype === 'BYTES' && !json ? storedBytesData(values) : values;
  return { name, datatype, shape, data, ...(json ? { parameters: { content_type: 'json' } } : {}) };
}
