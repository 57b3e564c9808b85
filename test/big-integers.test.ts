// JSON integers beyond 2^53 are stored with every digit, and range checks use the exact value (issue
// 19, item 6): OIP v2 tensors sent as JSON, KServe v1, OpenAI token ids and parameters, raw JSON bodies,
// through Express and Koa; the rows verify.
import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import { inferenceLog as expressLog, DEFAULT_ROUTES, type InferenceLogOptions } from '@inferlog/express';
import { inferenceLog as koaLog } from '@inferlog/koa';
import { pgp, showInference, verifyLog } from '@inferlog/core/audit';
import { DATABASE_URL, dropSchema, endPool, logOptions, settle, storedRows, uniqueSchema, type StoredRow } from './helpers';

const schema = uniqueSchema('bigint');
const audit = pgp({ connectionString: DATABASE_URL, max: 1 });

/**
 * The app answers with the request's own text turned into a response (`inputs` → `outputs`,
 * `instances` → `predictions`, the prompt echoed), never through JSON.parse, so the digits sent are the
 * digits answered.
 */
function answer(path: string, text: string): string {
  if (path.startsWith('/v2/')) return text.replace('"inputs"', '"model_name":"m","outputs"');
  if (path.startsWith('/v1/models/')) return text.replace('"instances"', '"predictions"');
  if (path === '/v1/completions') {
    const prompt = /"prompt":(\[[^\]]*\]\]?)/.exec(text)?.[1] ?? '""';
    return `{"id":"c","object":"text_completion","model":"m","choices":[{"index":0,"text":"ok","finish_reason":"stop","logprobs":{"tokens":${prompt}}}],"usage":{"prompt_tokens":9007199254740993,"completion_tokens":2}}`;
  }
  return text;
}

type Started = { server: never; log: ReturnType<typeof expressLog> };
const frameworks: [string, (options: InferenceLogOptions) => Started][] = [
  [
    'Express',
    (options) => {
      const log = expressLog(options);
      const app = express();
      app.use(log);
      app.use(express.text({ type: () => true }));
      app.post('/{*rest}', (req, res) => {
        res.type('application/json').send(answer(req.path, String(req.body)));
      });
      return { server: app as never, log };
    },
  ],
  [
    'Koa',
    (options) => {
      const log = koaLog(options);
      const app = new Koa();
      app.use(log);
      app.use(async (ctx) => {
        const chunks: Buffer[] = [];
        for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
        ctx.type = 'application/json';
        ctx.body = answer(ctx.path, Buffer.concat(chunks).toString('utf8'));
      });
      return { server: app.callback() as never, log: log as never };
    },
  ],
];

const INT64 = '[9007199254740993,9223372036854775807,-9223372036854775808,-9007199254740993,1,-2,9007199254740991]';
const INT64_STORED = ['9007199254740993', '9223372036854775807', '-9223372036854775808', '-9007199254740993', 1, -2, 9007199254740991];
const UINT64 = '[18446744073709551615,9007199254740993,0]';
const UINT64_STORED = ['18446744073709551615', '9007199254740993', 0];

/** Request texts by name, written by hand so no digit passes through a double. */
const REQUESTS: Record<string, [string, string]> = {
  oip: [
    '/v2/models/m/infer',
    `{"inputs":[{"name":"a","datatype":"INT64","shape":[7],"data":${INT64}},{"name":"b","datatype":"UINT64","shape":[3],"data":${UINT64}},` +
      '{"name":"c","datatype":"INT64","shape":[2,1],"data":[[9007199254740993],[2]]}],"parameters":{"seed":18446744073709551615}}',
  ],
  'out-of-range': [
    '/v2/models/m/infer',
    '{"inputs":[{"name":"a","datatype":"INT64","shape":[1],"data":[9223372036854775808]},' +
      '{"name":"b","datatype":"UINT64","shape":[1],"data":[18446744073709551616]},' +
      '{"name":"c","datatype":"UINT64","shape":[1],"data":[-1]},' +
      '{"name":"d","datatype":"INT64","shape":[1],"data":[-9223372036854775809]},' +
      '{"name":"e","datatype":"INT64","shape":[1],"data":[9.3e18]},' +
      '{"name":"f","datatype":"INT32","shape":[1],"data":[2147483648]}]}',
  ],
  fp64: [
    '/v2/models/m/infer',
    '{"inputs":[{"name":"a","datatype":"FP64","shape":[4],"data":[0.1,12345678901234567890,1.00000000000000000001,123456789012345678.5]}]}',
  ],
  kserve: ['/v1/models/m:predict', '{"instances":[[9007199254740993,1],[2,3]]}'],
  'kserve-uint64': ['/v1/models/m:predict', '{"instances":[18446744073709551615,1]}'],
  openai: [
    '/v1/completions',
    '{"model":"m","prompt":[[50256,9007199254740993]],"seed":9223372036854775807,"logit_bias":{"9007199254740993":-100,"50256":100}}',
  ],
  raw: ['/raw', '{"count":12345678901234567890,"mail":"jan@example.nl","small":1.5}'],
};

const ROUTES = [
  ...DEFAULT_ROUTES,
  { path: '/raw', protocol: 'raw' as const, redact: [{ detect: 'email' as const, action: 'mask' as const }] },
];

afterAll(async () => {
  await audit.$pool.end();
  await dropSchema(schema);
  await endPool();
});

const tensor = (row: StoredRow, part: 'inputs' | 'outputs', name: string) =>
  (row[part] as { name: string; datatype: string; data: unknown[] }[]).find((t) => t.name === name)!;

describe.each(frameworks)('%s', (framework, make) => {
  const table = `${framework.toLowerCase()}_log`;
  let rows: StoredRow[];
  const row = (name: string) => rows.find((r) => r.request_id === `${framework}-${name}`)!;

  beforeAll(async () => {
    const { server, log } = make(logOptions(schema, { table, routes: ROUTES }) as InferenceLogOptions);
    await log.ready();
    for (const [name, [path, body]] of Object.entries(REQUESTS)) {
      const res = await request(server)
        .post(path)
        .set('content-type', 'application/json')
        .set('x-request-id', `${framework}-${name}`)
        .send(body);
      expect(res.status).toBe(200);
    }
    await settle(log, Object.keys(REQUESTS).length);
    await log.close();
    rows = await storedRows(schema, table);
  });

  test('OIP v2 INT64 and UINT64 data sent as JSON numbers keep every digit (beyond 2^53 as decimal strings), in and out', () => {
    const r = row('oip');
    expect(r.schema_errors).toBeNull();
    for (const part of ['inputs', 'outputs'] as const) {
      expect(tensor(r, part, 'a').data).toEqual(INT64_STORED);
      expect(tensor(r, part, 'b').data).toEqual(UINT64_STORED);
      expect(tensor(r, part, 'c').data).toEqual([['9007199254740993'], [2]]);
    }
    expect(r.parameters).toEqual({ seed: '18446744073709551615' });
  });

  test('range checks use the exact value: one past INT64 and UINT64, below zero, an exponent, INT32', () => {
    // The response echoes the request: its outputs have the same errors.
    const errors = (row('out-of-range').schema_errors as { part: string; path: string; message: string }[]).filter(
      (e) => e.part === 'request',
    );
    expect(errors.map((e) => [e.path, e.message])).toEqual([
      [
        '/inputs/0/data/0',
        'must be an integer from -9223372036854775808 to 9223372036854775807 for datatype INT64; got a whole number out of range',
      ],
      ['/inputs/1/data/0', 'must be an integer from 0 to 18446744073709551615 for datatype UINT64; got a whole number out of range'],
      ['/inputs/2/data/0', 'must be an integer from 0 to 18446744073709551615 for datatype UINT64; got a whole number out of range'],
      [
        '/inputs/3/data/0',
        'must be an integer from -9223372036854775808 to 9223372036854775807 for datatype INT64; got a whole number out of range',
      ],
      [
        '/inputs/4/data/0',
        'must be an integer from -9223372036854775808 to 9223372036854775807 for datatype INT64; got a whole number out of range',
      ],
      ['/inputs/5/data/0', 'must be an integer from -2147483648 to 2147483647 for datatype INT32; got a whole number out of range'],
    ]);
    // The values themselves are stored as sent.
    expect(['a', 'b', 'c', 'd', 'f'].map((n) => tensor(row('out-of-range'), 'inputs', n).data[0])).toEqual([
      '9223372036854775808',
      '18446744073709551616',
      -1,
      '-9223372036854775809',
      2147483648,
    ]);
  });

  test('FP64: integer literals keep their digits; numbers with a fraction or exponent are the nearest double', () => {
    expect(tensor(row('fp64'), 'inputs', 'a').data).toEqual([0.1, '12345678901234567890', 1, 123456789012345680]);
    expect(row('fp64').schema_errors).toBeNull();
  });

  test('KServe v1 instances and predictions, OpenAI token ids and parameters keep every digit', () => {
    for (const part of ['inputs', 'outputs'] as const) {
      const t = tensor(row('kserve'), part, part === 'inputs' ? 'instances' : 'predictions');
      expect(t).toMatchObject({
        datatype: 'INT64',
        data: [
          ['9007199254740993', 1],
          [2, 3],
        ],
      });
      const u = tensor(row('kserve-uint64'), part, part === 'inputs' ? 'instances' : 'predictions');
      expect(u).toMatchObject({ datatype: 'UINT64', data: ['18446744073709551615', 1] });
    }
    const r = row('openai');
    expect(r.schema_errors).toBeNull();
    expect(tensor(r, 'inputs', 'prompt')).toMatchObject({ datatype: 'INT64', data: [[50256, '9007199254740993']] });
    expect(r.parameters).toEqual({ seed: '9223372036854775807', logit_bias: { '9007199254740993': -100, '50256': 100 } });
    expect(tensor(r, 'outputs', 'logprobs').data).toEqual([{ tokens: [[50256, '9007199254740993']] }]);
    expect(r.usage).toEqual({ input_tokens: '9007199254740993', output_tokens: 2, total_tokens: '9007199254740995' });
  });

  test('a raw JSON body written back after redaction keeps its digits as a JSON number', () => {
    const r = row('raw');
    expect(r.request_body).toBe('{"count":12345678901234567890,"mail":"[REDACTED]","small":1.5}');
  });

  test('the rows verify, and show prints the digits', async () => {
    expect((await verifyLog(audit, schema, table)).ok).toBe(true);
    const shown = await showInference(audit, schema, table, `${framework}-oip`);
    expect(JSON.stringify(shown.inferences[0]!.record.inputs)).toContain('"9223372036854775807"');
    expect(shown.inferences[0]!.chain?.ok).toBe(true);
  });
});
