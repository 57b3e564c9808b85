/**
 * A small real model: logistic regression with fixed weights that scores a loan application
 * (income in k€, debt ratio, years employed, missed payments) as a probability of default.
 */
export const MODEL = {
  name: 'credit-risk',
  version: '1',
  features: ['income_k', 'debt_ratio', 'years_employed', 'missed_payments'],
  weights: [-0.03, 2.4, -0.15, 0.9],
  bias: -0.5,
};

export function predict(rows: number[][]): number[] {
  return rows.map((row) => {
    const z = row.reduce((sum, x, i) => sum + x * MODEL.weights[i]!, MODEL.bias);
    return Math.round((1 / (1 + Math.exp(-z))) * 1e6) / 1e6;
  });
}

export class InferenceError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface OipTensor {
  name?: unknown;
  shape?: unknown;
  datatype?: unknown;
  data?: unknown;
}

/**
 * The OIP v2 inference handler shared by the Express and Koa examples: validates the request,
 * runs the model and answers with an OIP response, or throws an InferenceError.
 */
export function inferOip(modelName: string, body: unknown): Record<string, unknown> {
  if (modelName !== MODEL.name) throw new InferenceError(404, `model '${modelName}' is not available`);
  const request = body as { id?: unknown; inputs?: OipTensor[] } | undefined;
  const input = Array.isArray(request?.inputs) ? request.inputs[0] : undefined;
  if (!input || !Array.isArray(input.data) || !Array.isArray(input.shape)) {
    throw new InferenceError(400, 'expected inputs[0] with shape [n, 4] and FP32 data');
  }
  const flat = (input.data as unknown[]).flat(Infinity) as unknown[];
  const width = MODEL.features.length;
  if (flat.length === 0 || flat.length % width !== 0 || !flat.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new InferenceError(400, `inputs[0].data must hold n × ${width} finite numbers`);
  }
  const rows: number[][] = [];
  for (let i = 0; i < flat.length; i += width) rows.push(flat.slice(i, i + width) as number[]);
  return {
    model_name: MODEL.name,
    model_version: MODEL.version,
    ...(typeof request?.id === 'string' ? { id: request.id } : {}),
    outputs: [{ name: 'probability_of_default', shape: [rows.length, 1], datatype: 'FP32', data: predict(rows) }],
  };
}
