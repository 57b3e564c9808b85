// At scale (`pnpm test:scale`; not in the normal suite): 1,000,000 records of 16 features over 14 days,
// with 1 % of them labelled, profiled and compared with `monitorLog`. Prints the time it took; the
// known shift (features[2] from day 8, labels from day 10) must still be all that is flagged.
import { InferenceLogger } from '@inferlog/core';
import { monitorLog } from '@inferlog/core/audit';
import { openWriter, type Writer } from './cli-helpers';
import { db, dropSchema, endPool, logOptions, uniqueSchema } from './helpers';
import { DAY, DAYS, LABEL_DAY, SHIFT_DAY, START, traffic, type Inference } from './monitor-traffic';

const schema = uniqueSchema('monitor_scale');
const N = Number(process.env.MONITOR_SCALE_N ?? 1_000_000);
const figures: string[] = [];
let writer: Writer;

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
const day = (d: number) => new Date(START + (d - 1) * DAY).toISOString();
const days = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => day(from + i));

const embedded = process.env.INFERLOG_TEST_EMBEDDED === '1';
(embedded ? describe.skip : describe)(
  `monitor at scale (${N.toLocaleString('en')} records of 16 features; needs a real PostgreSQL)`,
  () => {
    beforeAll(async () => {
      writer = await openWriter(schema, 'scale-api');
      const began = Date.now();
      const labelled: Inference[] = [];
      let batch: Inference[] = [];
      const flush = async () => {
        await writer.write(batch.map((x) => x.record));
        batch = [];
      };
      for (const x of traffic(Math.ceil(N / DAYS), { width: 16, labelled: 0.01 })) {
        batch.push(x);
        if (x.label !== null) labelled.push(x);
        if (batch.length === 10_000) await flush();
      }
      await flush();
      await db.none('ANALYZE $1:name.inference_log', [schema]);
      figures.push(`wrote ${N.toLocaleString('en')} records (sealed, COPY) in ${seconds(began)} s`);
      const labels = new InferenceLogger(logOptions(schema, { service: 'labels' }));
      await labels.ready();
      const sent = Date.now();
      for (let i = 0; i < labelled.length; i += 500)
        await Promise.all(
          labelled.slice(i, i + 500).map((x) => labels.event(x.record.request_id, { type: 'ground_truth', data: { label: x.label } })),
        );
      await labels.close();
      figures.push(`sent ${labelled.length.toLocaleString('en')} ground_truth events in ${seconds(sent)} s`);
    }, 3_600_000);

    afterAll(async () => {
      await writer?.close();
      if (!process.env.MONITOR_SCALE_KEEP) await dropSchema(schema);
      await endPool();
      console.log(`monitor scale test:\n  ${figures.join('\n  ')}`);
    });

    test('profiles and compares 1,000,000 records of 16 features per day, with model quality', async () => {
      const began = Date.now();
      const report = await monitorLog(db, schema, 'inference_log', { prediction: { kind: 'threshold', output: 'probability' } });
      const took = Date.now() - began;
      figures.push(`monitor (${report.models[0]!.features.length} features, 14 daily windows, quality): ${(took / 1000).toFixed(1)} s`);
      const credit = report.models[0]!;
      expect(credit.records).toBe(Math.ceil(N / DAYS) * DAYS);
      expect(credit.features.filter((f) => f.name.startsWith('inputs.features['))).toHaveLength(16);
      expect(credit.drift).toEqual([{ feature: 'inputs.features[2]', windows: days(SHIFT_DAY, DAYS) }]);
      expect(credit.quality!.degraded).toEqual(days(LABEL_DAY, DAYS));
    }, 600_000);
  },
);
