// The columns of a parquet dataset (`exportLog` with format `parquet`): the record's own columns, the
// tensors flattened or as text, and the ground truth; and each row's values for them. Which tensor
// becomes which columns is decided before any row is written (`TensorPlanner`, from the distinct
// name/datatype/shape of the exported rows), so every row group of the file has the same columns.
import { canonicalJson } from '../chain/canonical';
import { InferlogConfigError } from '../errors';
import { NUMERIC_DATATYPES } from '../protocols/oip-v2/schema';
import { elementsPerSample, firstLeaves } from '../protocols/oip-v2/tensor-data';

/** A column's parquet type: `STRING` (UTF-8), `TIMESTAMP` (microseconds, UTC), `INT32` or `DOUBLE`. */
export type ParquetColumnType = 'STRING' | 'TIMESTAMP' | 'INT32' | 'DOUBLE';

/** A column of a parquet dataset, as its manifest lists it. */
export interface ParquetColumn {
  name: string;
  type: ParquetColumnType;
  /** False for a column that always holds a value (id, request_id, started_at, protocol, latency_ms, schema_error_count). */
  nullable: boolean;
}

/** Elements per sample a tensor is flattened to at most; a wider one is one text column. */
export const MAX_FLAT_ELEMENTS = 64;

/** Distinct tensors (by side and name), and columns in all, that a dataset takes at most. */
export const MAX_TENSORS = 10_000;
export const MAX_COLUMNS = 10_000;

/** The record's columns, before the tensors; `ground_truth` and `ground_truth_at` come after them. */
export const RECORD_PARQUET_COLUMNS: readonly ParquetColumn[] = [
  { name: 'id', type: 'STRING', nullable: false },
  { name: 'request_id', type: 'STRING', nullable: false },
  { name: 'started_at', type: 'TIMESTAMP', nullable: false },
  { name: 'model_name', type: 'STRING', nullable: true },
  { name: 'model_version', type: 'STRING', nullable: true },
  { name: 'route', type: 'STRING', nullable: true },
  { name: 'protocol', type: 'STRING', nullable: false },
  { name: 'status', type: 'INT32', nullable: true },
  { name: 'latency_ms', type: 'DOUBLE', nullable: false },
  { name: 'schema_error_count', type: 'INT32', nullable: false },
];

export const GROUND_TRUTH_COLUMNS: readonly ParquetColumn[] = [
  { name: 'ground_truth', type: 'STRING', nullable: true },
  { name: 'ground_truth_at', type: 'TIMESTAMP', nullable: true },
];

export type TensorSide = 'inputs' | 'outputs';

/**
 * How one tensor goes into the dataset: `flat`, one DOUBLE column per element of the first sample
 * (`inputs.<name>[<i>]`); `text`, one STRING column (`inputs.<name>`).
 */
export type TensorPlan =
  | { kind: 'flat'; side: TensorSide; name: string; elements: number; columns: string[] }
  | { kind: 'text'; side: TensorSide; name: string; column: string };

/** What the exported rows hold of one tensor name, folded over its distinct datatypes and shapes. */
interface TensorSeen {
  side: TensorSide;
  name: string;
  /** Its smallest position in a record's tensor list: columns follow the order the model declares. */
  position: number;
  /** Every datatype seen is numeric. */
  numeric: boolean;
  /** Elements per sample, the same in every row; null once it is unknown or differs. */
  elements: number | null;
}

/**
 * Decides each tensor's columns from the distinct (side, name, datatype, shape) of the exported rows,
 * given in any order: a tensor every row of which has a numeric datatype and the same elements per
 * sample, from 1 to `MAX_FLAT_ELEMENTS`, is flattened; any other is text. Memory: one entry per
 * tensor name (at most `MAX_TENSORS`).
 */
export class TensorPlanner {
  private readonly seen = new Map<string, TensorSeen>();

  add(side: TensorSide, name: unknown, datatype: unknown, shape: unknown, position: number): void {
    // A tensor without a name cannot be a column.
    if (typeof name !== 'string') return;
    const key = `${side}\u0000${name}`;
    const numeric = typeof datatype === 'string' && NUMERIC_DATATYPES.has(datatype);
    const elements = elementsPerSample(shape);
    const entry = this.seen.get(key);
    if (!entry) {
      if (this.seen.size >= MAX_TENSORS) throw tooWide(`more than ${MAX_TENSORS.toLocaleString('en')} distinct tensor names`);
      this.seen.set(key, { side, name, position, numeric, elements });
      return;
    }
    entry.position = Math.min(entry.position, position);
    entry.numeric &&= numeric;
    if (entry.elements !== elements) entry.elements = null;
  }

  /** The tensors' columns: inputs, then outputs, each in the order of their position, then name. */
  plan(): TensorPlan[] {
    const taken = new Set(RECORD_PARQUET_COLUMNS.map((c) => c.name).concat(GROUND_TRUTH_COLUMNS.map((c) => c.name)));
    // A tensor's name is the client's: two could spell the same column (`x[0]` as text beside x flattened).
    const unique = (name: string) => {
      let candidate = name;
      for (let k = 2; taken.has(candidate); k++) candidate = `${name}#${k}`;
      taken.add(candidate);
      return candidate;
    };
    const sorted = [...this.seen.values()].sort(
      (a, b) =>
        (a.side === b.side ? 0 : a.side === 'inputs' ? -1 : 1) ||
        a.position - b.position ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    const plans = sorted.map((t): TensorPlan => {
      const { side, name, elements } = t;
      if (t.numeric && elements !== null && elements >= 1 && elements <= MAX_FLAT_ELEMENTS)
        return { kind: 'flat', side, name, elements, columns: Array.from({ length: elements }, (_, i) => unique(`${side}.${name}[${i}]`)) };
      return { kind: 'text', side, name, column: unique(`${side}.${name}`) };
    });
    const columns = RECORD_PARQUET_COLUMNS.length + GROUND_TRUTH_COLUMNS.length + plans.reduce((n, p) => n + columnsOf(p).length, 0);
    if (columns > MAX_COLUMNS) throw tooWide(`tensors that make ${columns.toLocaleString('en')} columns`);
    return plans;
  }
}

function tooWide(what: string): InferlogConfigError {
  return new InferlogConfigError(
    `the records to export hold ${what}; a parquet dataset takes at most ${MAX_COLUMNS.toLocaleString('en')} columns: export one model at a time (--model, --version) or a shorter period`,
  );
}

/** The column names of a tensor's plan. */
export function columnsOf(plan: TensorPlan): string[] {
  return plan.kind === 'flat' ? plan.columns : [plan.column];
}

/** Every column of the dataset, in file order. */
export function parquetColumns(plans: readonly TensorPlan[]): ParquetColumn[] {
  return [
    ...RECORD_PARQUET_COLUMNS,
    ...plans.flatMap((p): ParquetColumn[] =>
      p.kind === 'flat'
        ? p.columns.map((name) => ({ name, type: 'DOUBLE', nullable: true }))
        : [{ name: p.column, type: 'STRING', nullable: true }],
    ),
    ...GROUND_TRUTH_COLUMNS,
  ];
}

/**
 * An element as a number: a number; a BOOL's true and false as 1 and 0; an integer past ±(2^53 − 1),
 * which the log stores as the string of its digits, as the nearest double. Anything else is null.
 */
export function elementNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^-?\d{16,}$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? null : n;
  }
  return null;
}

/** A tensor as the log stores it (OIP): `{name, datatype, shape, data}`, any of which a client may have got wrong. */
type StoredTensor = { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown };

/**
 * A text column's value: for a BYTES tensor with one element per sample, that element's text (of the
 * first sample); otherwise the JSON text (RFC 8785) of its data. Null when the tensor has no data.
 */
export function tensorText(tensor: StoredTensor): string | null {
  if (tensor.data === undefined || tensor.data === null) return null;
  if (tensor.datatype === 'BYTES' && elementsPerSample(tensor.shape) === 1) {
    const [first] = firstLeaves(tensor.data, 1);
    if (first === undefined || first === null) return null;
    return typeof first === 'string' ? first : canonicalJson(first);
  }
  return canonicalJson(tensor.data);
}

/** A record's tensors of one side by name: the first of each name (a list that is not one holds none). */
function tensorsByName(tensors: unknown): Map<string, StoredTensor> {
  const byName = new Map<string, StoredTensor>();
  if (!Array.isArray(tensors)) return byName;
  for (const t of tensors)
    if (
      t &&
      typeof t === 'object' &&
      !Array.isArray(t) &&
      typeof (t as StoredTensor).name === 'string' &&
      !byName.has((t as StoredTensor).name as string)
    )
      byName.set((t as StoredTensor).name as string, t as StoredTensor);
  return byName;
}

/** A row of the dataset's query (see export-parquet.ts), as pg-promise returns it. */
export interface DatasetRow {
  id: string;
  request_id: string;
  /** Microseconds since 1970, as text (bigint). */
  started_us: string;
  model_name: string | null;
  model_version: string | null;
  route: string | null;
  protocol: string;
  status: number | null;
  latency_ms: number;
  schema_error_count: number;
  inputs: unknown;
  outputs: unknown;
  /** `[label]` when the latest ground_truth event has a `data.label`, else null. */
  ground_truth: [unknown] | null;
  ground_truth_us: string | null;
}

/** The row's values, in the order of `parquetColumns(plans)`: timestamps as bigint microseconds. */
export function datasetValues(row: DatasetRow, plans: readonly TensorPlan[]): unknown[] {
  const values: unknown[] = [
    row.id,
    row.request_id,
    BigInt(row.started_us),
    row.model_name,
    row.model_version,
    row.route,
    row.protocol,
    row.status,
    row.latency_ms,
    row.schema_error_count,
  ];
  const sides = { inputs: tensorsByName(row.inputs), outputs: tensorsByName(row.outputs) };
  for (const plan of plans) {
    const tensor = sides[plan.side].get(plan.name);
    if (plan.kind === 'text') {
      values.push(tensor ? tensorText(tensor) : null);
      continue;
    }
    const leaves = tensor ? firstLeaves(tensor.data, plan.elements) : [];
    for (let i = 0; i < plan.elements; i++) values.push(i < leaves.length ? elementNumber(leaves[i]) : null);
  }
  values.push(
    row.ground_truth ? canonicalJson(row.ground_truth[0]) : null,
    row.ground_truth_us === null ? null : BigInt(row.ground_truth_us),
  );
  return values;
}
