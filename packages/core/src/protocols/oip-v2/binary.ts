// The binary tensor data extension (Triton docs/protocol/extension_binary_data.md, KServe's
// binary_tensor_data_extension): after the JSON header (Inference-Header-Content-Length bytes) come the
// tensors whose `parameters.binary_data_size` is set, in the order they appear in the JSON, each as
// raw little-endian row-major bytes without padding. BOOL is one byte; a BYTES element is a 4-byte
// little-endian length followed by that many bytes.
import { storedBytes } from '../../stored-bytes';
import { isObject, type SchemaError } from '../mapper';
import { elementCount } from './tensor-data';

// Maps, not objects: a datatype named after an Object.prototype member ("constructor", "__proto__")
// must find nothing, not an inherited function that would turn the decoding budget into NaN.
const FIXED_SIZES = new Map<string, number>(
  Object.entries({
    BOOL: 1,
    UINT8: 1,
    INT8: 1,
    UINT16: 2,
    INT16: 2,
    FP16: 2,
    BF16: 2,
    UINT32: 4,
    INT32: 4,
    FP32: 4,
    UINT64: 8,
    INT64: 8,
    FP64: 8,
  }),
);
/** Characters an element takes in the stored JSON, at most (for the decoding budget). */
const JSON_SIZES = new Map<string, number>(
  Object.entries({
    BOOL: 6,
    UINT8: 4,
    INT8: 5,
    UINT16: 6,
    INT16: 7,
    FP16: 24,
    BF16: 24,
    UINT32: 11,
    INT32: 12,
    FP32: 24,
    UINT64: 23,
    INT64: 23,
    FP64: 25,
  }),
);

/** Half-precision (IEEE 754 binary16) to a number. */
function fp16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

const scratch = new DataView(new ArrayBuffer(4));
function bf16(bits: number): number {
  scratch.setUint32(0, bits << 16);
  return scratch.getFloat32(0);
}

/** JSON has no NaN or Infinity: they are stored as the strings "NaN", "Infinity", "-Infinity". */
function jsonNumber(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

/** 64-bit integers beyond 2^53 would lose digits as JSON numbers: they are stored as decimal strings. */
function jsonInteger(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

type Reader = (bytes: Buffer, offset: number) => unknown;
const READERS = new Map<string, Reader>(
  Object.entries({
    BOOL: (b, o) => b[o] !== 0,
    UINT8: (b, o) => b.readUInt8(o),
    INT8: (b, o) => b.readInt8(o),
    UINT16: (b, o) => b.readUInt16LE(o),
    INT16: (b, o) => b.readInt16LE(o),
    FP16: (b, o) => jsonNumber(fp16(b.readUInt16LE(o))),
    BF16: (b, o) => jsonNumber(bf16(b.readUInt16LE(o))),
    UINT32: (b, o) => b.readUInt32LE(o),
    INT32: (b, o) => b.readInt32LE(o),
    FP32: (b, o) => jsonNumber(b.readFloatLE(o)),
    UINT64: (b, o) => jsonInteger(b.readBigUInt64LE(o)),
    INT64: (b, o) => jsonInteger(b.readBigInt64LE(o)),
    FP64: (b, o) => jsonNumber(b.readDoubleLE(o)),
  } satisfies Record<string, Reader>),
);

/** BYTES elements in their stored form (stored-bytes.ts: plain text as it is, anything else `base64:` + base64); at most `budget` characters of them. */
function readBytesElements(bytes: Buffer, budget: number): { data: string[]; problem: string | null; spent: number; stopped: boolean } {
  const data: string[] = [];
  let offset = 0;
  let spent = 0;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length)
      return { data, problem: `ends inside the length prefix of element ${data.length}`, spent, stopped: false };
    const length = bytes.readUInt32LE(offset);
    offset += 4;
    if (offset + length > bytes.length)
      return {
        data,
        problem: `element ${data.length} claims ${length} bytes; only ${bytes.length - offset} remain`,
        spent,
        stopped: false,
      };
    // Its JSON is at least its length in characters: one that cannot fit is not decoded at all.
    if (spent + length > budget) return { data, problem: null, spent, stopped: true };
    const element = bytes.subarray(offset, offset + length);
    const value = storedBytes(element);
    const cost = JSON.stringify(value).length + 1; // as stored: quoted, escaped, a comma
    if (spent + cost > budget) return { data, problem: null, spent, stopped: true };
    data.push(value);
    spent += cost;
    offset += length;
  }
  return { data, problem: null, spent, stopped: false };
}

export interface BinaryResult {
  /** The tensors with `data` decoded from the binary part (the others as they were). */
  tensors: unknown[];
  errors: SchemaError[];
  /** True when not all data could be stored: the body was cut at the size cap, or the decoded JSON would pass it. */
  cut: boolean;
}

/**
 * Fills `data` of each tensor that has `parameters.binary_data_size` from `binary`, in order. A tensor
 * whose bytes are not all there (the body was cut at the size cap) keeps `data: null`; a size that does
 * not fit its datatype and shape is a schema error, and whatever whole elements are there are decoded.
 * Decoding stops once the JSON of the decoded elements would pass `budget` characters (the size cap):
 * binary data is compact, its JSON several times larger.
 */
export function attachBinaryData(
  tensors: unknown[],
  binary: Buffer,
  part: string,
  field: string,
  bodyCut: boolean,
  budget: number,
): BinaryResult {
  const errors: SchemaError[] = [];
  let offset = 0;
  let cut = false;
  /** A size that is not a number of bytes: where later tensors start is unknown. */
  let lost = false;
  let spent = 0;
  const out = tensors.map((tensor, i) => {
    if (!isObject(tensor) || !isObject(tensor.parameters) || tensor.parameters.binary_data_size === undefined) return tensor;
    const where = `/${field}/${i}`;
    const size = tensor.parameters.binary_data_size;
    // The binary data replaces `data`; the extension forbids sending both.
    if (tensor.data !== undefined)
      errors.push({ part, path: `${where}/data`, message: 'must not be given beside binary_data_size (the binary data is stored)' });
    if (lost) {
      errors.push({
        part,
        path: where,
        message: 'follows a tensor whose binary_data_size is not a number of bytes: its data cannot be found',
      });
      return { ...tensor, data: null };
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      errors.push({ part, path: `${where}/parameters/binary_data_size`, message: 'must be a whole number of bytes' });
      lost = true;
      return { ...tensor, data: null };
    }
    const bytes = binary.subarray(offset, offset + size);
    offset += size;
    if (bytes.length < size) {
      if (bodyCut) cut = true;
      else errors.push({ part, path: where, message: `binary_data_size is ${size} but only ${bytes.length} bytes follow` });
      return { ...tensor, data: null };
    }
    const datatype = typeof tensor.datatype === 'string' ? tensor.datatype : '';
    const shape = Array.isArray(tensor.shape) && tensor.shape.length <= 64 ? JSON.stringify(tensor.shape) : 'given';
    if (datatype === 'BYTES') {
      const elements = readBytesElements(bytes, budget - spent);
      spent += elements.spent;
      if (elements.problem) errors.push({ part, path: where, message: `BYTES data ${elements.problem}` });
      else if (elements.stopped) cut = true;
      else if (elements.data.length !== elementCount(tensor.shape))
        errors.push({
          part,
          path: where,
          message: `has ${elements.data.length} BYTES elements; shape ${shape} needs ${elementCount(tensor.shape)}`,
        });
      return { ...tensor, data: elements.data };
    }
    const reader = READERS.get(datatype);
    if (!reader) {
      errors.push({ part, path: `${where}/datatype`, message: 'is not a datatype whose binary data can be decoded' });
      return { ...tensor, data: null };
    }
    const width = FIXED_SIZES.get(datatype)!;
    const jsonSize = JSON_SIZES.get(datatype)!;
    const expected = elementCount(tensor.shape) * width;
    if (expected !== size) {
      errors.push({
        part,
        path: `${where}/parameters/binary_data_size`,
        message: `is ${size}; shape ${shape} of ${datatype} needs ${expected} bytes`,
      });
    }
    const affordable = Math.max(0, Math.floor((budget - spent) / jsonSize));
    const end = Math.min(size - (size % width), affordable * width);
    if (end < size - (size % width)) cut = true;
    spent += (end / width) * jsonSize;
    const data: unknown[] = [];
    for (let at = 0; at < end; at += width) data.push(reader(bytes, at));
    return { ...tensor, data };
  });
  if (!cut && !lost && offset < binary.length) {
    errors.push({ part, message: `${binary.length - offset} bytes of binary data follow the last tensor` });
  }
  return { tensors: out, errors, cut };
}
