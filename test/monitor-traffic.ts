// Synthetic traffic with known changes, for the monitoring tests: a credit model served for 14 days,
// input features[2] shifted from day 8, the labels' distribution shifted from day 10. Seeded: the
// same records every run.
import type { InferenceRecord } from '@inferlog/core';
import { record } from './cli-helpers';

export const DAY = 86_400_000;
/** Day 1 of the traffic (UTC midnight). */
export const START = Date.UTC(2026, 2, 2);
export const DAYS = 14;
export const SHIFT_DAY = 8;
export const LABEL_DAY = 10;

/** mulberry32: a small seeded PRNG. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller). */
export function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export interface Inference {
  record: InferenceRecord;
  /** The ground truth label sent for this inference, if any (0 or 1). */
  label: number | null;
}

/**
 * `perDay` inferences a day for `days` days: features (FP32, shape [1, width]) each N(i, 1) except
 * features[2] ~ N(5, 2) that moves to N(7, 2) from SHIFT_DAY; a BYTES `segment` (a, b, c); the output
 * `probability` = sigmoid(features[0] − 0) (stationary); latency and status stationary. Labels for
 * `labelled` of each day's inferences: Bernoulli(probability), flipped with probability 0.35 from LABEL_DAY.
 */
export function* traffic(
  perDay: number,
  options: { days?: number; width?: number; labelled?: number; seed?: number; start?: number } = {},
): Generator<Inference> {
  const { days = DAYS, width = 4, labelled = 0.5, seed = 7, start = START } = options;
  const rand = random(seed);
  let i = 0;
  for (let day = 1; day <= days; day++)
    for (let k = 0; k < perDay; k++, i++) {
      const at = start + (day - 1) * DAY + Math.floor(((k + rand()) / perDay) * DAY);
      const features = Array.from({ length: width }, (_, f) =>
        f === 2 ? (day >= SHIFT_DAY ? 7 : 5) + 2 * normal(rand) : f + normal(rand),
      );
      const probability = 1 / (1 + Math.exp(-features[0]!));
      const segment = ['a', 'b', 'b', 'c'][Math.floor(rand() * 4)]!;
      let label: number | null = null;
      if (rand() < labelled) {
        label = rand() < probability ? 1 : 0;
        if (day >= LABEL_DAY && rand() < 0.35) label = 1 - label;
      }
      yield {
        record: record(i, at, {
          model_name: 'credit',
          model_version: '1',
          request_id: `req-${i}`,
          latency_ms: 4 + 3 * rand(),
          status: rand() < 0.01 ? 500 : 200,
          inputs: [
            { name: 'features', shape: [1, width], datatype: 'FP32', data: features.map((v) => Math.fround(v)) },
            { name: 'segment', shape: [1, 1], datatype: 'BYTES', data: [segment] },
          ],
          outputs: [{ name: 'probability', shape: [1, 1], datatype: 'FP32', data: [Math.fround(probability)] }],
        }),
        label,
      };
    }
}
