// Which features a monitoring run profiles, found from the records themselves: per model and version,
// the record's own facts (latency, status, schema errors, token usage) and, per input and output
// tensor, one feature per element position (numeric, fixed shape, narrow), a category or a length
// (BYTES), or a length and a mean (any other numeric tensor).
import type { Queryable } from '../sink/pgp';
import { NUMERIC_DATATYPES } from '../protocols/oip-v2/schema';
import { elementCount } from '../protocols/oip-v2/tensor-data';
import { entry } from './entry';
import { SAMPLE_SHAPE } from './observations';

/** How a tensor becomes features. `bytes` is decided by the reference: `category` or `text`. */
export type TensorKind = 'position' | 'bytes' | 'category' | 'text' | 'summary';

export interface TensorPlan {
  model: string | null;
  version: string | null;
  side: 'inputs' | 'outputs';
  name: string;
  kind: TensorKind;
  /** Elements per sample (`position` only). */
  width: number;
  /** The shape of one sample (`position` only): records whose tensor has another shape do not count for its positions. */
  shape: number[] | null;
  /** Whether some record holds the tensor's data as nested arrays. */
  nested: boolean;
  /** The id of the tensor's first feature; a tensor's features have consecutive ids. */
  base: number;
}

export interface ModelPlan {
  model: string | null;
  version: string | null;
  records: number;
  first: Date;
  last: Date;
  /** Whether any record of the model reports token usage. */
  usage: boolean;
  /** The id of the model's first record feature (see RECORD_FEATURES). */
  base: number;
  /** Tensors left out: beyond MAX_TENSORS or MAX_MODEL_FEATURES, the least frequent. */
  skippedTensors: number;
}

/** Most tensors profiled per model: names come from clients, and one that sends a new name each time must not make the run unbounded. */
export const MAX_TENSORS = 100;
/** Most tensor features profiled per model (a tensor of 64 positions gives 64). */
export const MAX_MODEL_FEATURES = 1000;

/** The record's own features, in id order after a model's `base`. */
export const RECORD_FEATURES = [
  { name: 'latency_ms', kind: 'numeric' },
  { name: 'status', kind: 'categorical' },
  { name: 'schema_errors', kind: 'categorical' },
  { name: 'usage.input_tokens', kind: 'numeric' },
  { name: 'usage.output_tokens', kind: 'numeric' },
  { name: 'usage.time_to_first_token_ms', kind: 'numeric' },
] as const;
/** The first usage feature: those are profiled only for models that report usage. */
export const USAGE_FEATURES_FROM = 3;

export type FeatureKind = 'numeric' | 'categorical';

/** One feature, as the report names it. */
export interface FeatureDef {
  id: number;
  model: string | null;
  version: string | null;
  name: string;
  kind: FeatureKind;
}

export interface MonitorPlan {
  models: ModelPlan[];
  tensors: TensorPlan[];
}

const key = (...parts: unknown[]) => JSON.stringify(parts);

/** What the plan query found of one tensor of one model. */
interface SeenTensor {
  model: string | null;
  version: string | null;
  side: 'inputs' | 'outputs';
  name: string;
  types: Set<string>;
  shapes: Map<string, unknown>;
  nested: boolean;
  records: number;
}

/** Reads which models and tensors the records matching `where` hold, and plans their features. */
export async function planFeatures(
  db: Queryable,
  schema: string,
  table: string,
  where: string,
  maxPositions: number,
): Promise<MonitorPlan> {
  const models = await db.any(
    `SELECT model_name, model_version, count(*) AS n, min(started_at) AS first, max(started_at) AS last,
            coalesce(bool_or(jsonb_typeof(usage) = 'object'), false) AS usage
       FROM $1:name.$2:name WHERE ($3:raw) GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2 NULLS LAST`,
    [schema, table, where],
  );
  // Per tensor, its datatypes and per-sample shapes (the shape without its batch dimension when it has two or more).
  const shapes = await db.any(
    `SELECT r.model_name, r.model_version, s.side, t ->> 'name' AS name, t ->> 'datatype' AS datatype, ${SAMPLE_SHAPE('t')} AS sample_shape,
            bool_or(jsonb_typeof(t -> 'data' -> 0) = 'array') AS nested, count(*) AS n
       FROM $1:name.$2:name r
      CROSS JOIN LATERAL (VALUES ('inputs', r.inputs), ('outputs', r.outputs)) s(side, ts)
      CROSS JOIN LATERAL jsonb_array_elements(CASE jsonb_typeof(s.ts) WHEN 'array' THEN s.ts ELSE '[]'::jsonb END) t
      WHERE ($3:raw) AND jsonb_typeof(t) = 'object' AND jsonb_typeof(t -> 'name') = 'string'
      GROUP BY 1, 2, 3, 4, 5, 6`,
    [schema, table, where],
  );
  let next = 0;
  const modelPlans: ModelPlan[] = models.map((m) => {
    const plan: ModelPlan = {
      model: m.model_name,
      version: m.model_version,
      records: Number(m.n),
      first: m.first,
      last: m.last,
      usage: m.usage,
      base: next,
      skippedTensors: 0,
    };
    next += RECORD_FEATURES.length;
    return plan;
  });
  const byTensor = new Map<string, SeenTensor>();
  for (const s of shapes) {
    const t = entry(
      byTensor,
      key(s.model_name, s.model_version, s.side, s.name),
      (): SeenTensor => ({
        model: s.model_name,
        version: s.model_version,
        side: s.side,
        name: s.name,
        types: new Set(),
        shapes: new Map(),
        nested: false,
        records: 0,
      }),
    );
    t.types.add(String(s.datatype));
    t.shapes.set(JSON.stringify(s.sample_shape), s.sample_shape);
    t.nested ||= s.nested === true;
    t.records += Number(s.n);
  }
  /** How a tensor becomes features, and how many it gives. */
  const classify = (t: SeenTensor) => {
    const [type] = t.types;
    const [shape] = t.shapes.values();
    // The plan reads each tensor's shape without its batch dimension: its element count is a sample's.
    const elements = t.shapes.size === 1 ? elementCount(shape) : Number.NaN;
    const width = Number.isNaN(elements) ? null : elements;
    if (t.types.size === 1 && type === 'BYTES') return { kind: 'bytes' as TensorKind, width: 0, shape: null, features: 2 };
    if (t.types.size === 1 && NUMERIC_DATATYPES.has(type!) && width && width <= maxPositions)
      return { kind: 'position' as TensorKind, width, shape: shape as number[], features: width };
    return { kind: 'summary' as TensorKind, width: 0, shape: null, features: 2 };
  };
  // Per model, its most frequent tensors, at most MAX_TENSORS of them and MAX_MODEL_FEATURES features; then in name order.
  const kept: { seen: SeenTensor; plan: ReturnType<typeof classify> }[] = [];
  const perModel = new Map<string, SeenTensor[]>();
  for (const t of byTensor.values()) entry(perModel, key(t.model, t.version), () => []).push(t);
  for (const [model, list] of perModel) {
    list.sort((a, b) => b.records - a.records);
    let features = 0;
    let taken = 0;
    for (const t of list) {
      const plan = classify(t);
      if (taken === MAX_TENSORS || features + plan.features > MAX_MODEL_FEATURES) continue;
      kept.push({ seen: t, plan });
      features += plan.features;
      taken++;
    }
    const modelPlan = modelPlans.find((m) => key(m.model, m.version) === model);
    if (modelPlan) modelPlan.skippedTensors = list.length - taken;
  }
  kept.sort((a, b) =>
    key(a.seen.model, a.seen.version, a.seen.side, a.seen.name).localeCompare(key(b.seen.model, b.seen.version, b.seen.side, b.seen.name)),
  );
  const tensors: TensorPlan[] = [];
  for (const { seen: t, plan } of kept) {
    tensors.push({
      model: t.model,
      version: t.version,
      side: t.side,
      name: t.name,
      kind: plan.kind,
      width: plan.width,
      shape: plan.shape,
      nested: t.nested,
      base: next,
    });
    next += plan.features;
  }
  return { models: modelPlans, tensors };
}

/** The features of a plan, in id order (usage features only for models that report usage). */
export function featuresOf(plan: MonitorPlan): FeatureDef[] {
  const out: FeatureDef[] = [];
  for (const m of plan.models)
    RECORD_FEATURES.forEach((f, i) => {
      if (i < USAGE_FEATURES_FROM || m.usage) out.push({ id: m.base + i, model: m.model, version: m.version, name: f.name, kind: f.kind });
    });
  for (const t of plan.tensors) {
    const prefix = `${t.side}.${t.name}`;
    const add = (offset: number, name: string, kind: FeatureKind) =>
      out.push({ id: t.base + offset, model: t.model, version: t.version, name, kind });
    if (t.kind === 'position') for (let i = 0; i < t.width; i++) add(i, `${prefix}[${i}]`, 'numeric');
    else if (t.kind === 'category') add(0, prefix, 'categorical');
    else if (t.kind === 'text') add(1, `${prefix}.length`, 'numeric');
    else if (t.kind === 'bytes') {
      add(0, prefix, 'categorical');
      add(1, `${prefix}.length`, 'numeric');
    } else {
      add(0, `${prefix}.length`, 'numeric');
      add(1, `${prefix}.mean`, 'numeric');
    }
  }
  return out.sort((a, b) => a.id - b.id);
}
