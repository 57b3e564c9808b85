// BYTES elements and raw bodies are stored so that no two different byte strings look alike and a reader
// can tell text from bytes by the rule docs/protocols.md gives (issue 19, item 5): through the JSON and
// the binary tensor paths of OIP v2, KServe v1 and OpenAI tensors, and raw bodies, on Express and Koa.
import express from 'express';
import Koa from 'koa';
import fc from 'fast-check';
import request from 'supertest';
import { inferenceLog as expressLog, DEFAULT_ROUTES, type InferenceLogOptions } from '@inferlog/express';
import { inferenceLog as koaLog } from '@inferlog/koa';
import { pgp, verifyLog } from '@inferlog/core/audit';
import { DATABASE_URL, dropSchema, endPool, logOptions, settle, storedRows, uniqueSchema, type StoredRow } from './helpers';

const schema = uniqueSchema('bytes');
const audit = pgp({ connectionString: DATABASE_URL, max: 1 });

/** The documented decoding: `base64:` and base64 are bytes; any other string is its UTF-8. */
const decode = (stored: string): Buffer =>
  stored.startsWith('base64:') ? Buffer.from(stored.slice(7), 'base64') : Buffer.from(stored, 'utf8');

/** The documented encoding, written again here: text only when it is UTF-8 with no control character (but tab, LF, CR) and not `base64:…`. */
function expected(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  const plain =
    Buffer.from(text, 'utf8').equals(bytes) &&
    !text.startsWith('base64:') &&
    ![...text].some((c) => {
      const code = c.codePointAt(0)!;
      return (code < 0x20 && c !== '\t' && c !== '\n' && c !== '\r') || (code >= 0x7f && code <= 0x9f);
    });
  return plain ? text : `base64:${bytes.toString('base64')}`;
}

/** Strings a client sends as BYTES elements in JSON: plain, with each kind of control character, and looking like stored bytes. */
const TEXTS = [
  'plain',
  'tab\tline\nfeed\r',
  'ünï模😀',
  'del\u007f',
  'c1\u0080',
  'c1\u0085nel',
  'c1\u009f',
  'nul\u0000',
  'bell\u0007',
  'esc\u001b[0m',
  'base64:aGVsbG8=',
  'base64:/w==',
  'base64:',
  '',
  'lone\ud800',
];
/** Byte strings sent as binary BYTES elements: the texts' UTF-8 and bytes that are not UTF-8. */
const BYTES = [
  ...TEXTS.filter((t) => !t.includes('\ud800')).map((t) => Buffer.from(t, 'utf8')),
  Buffer.from([0xff]),
  Buffer.from('hello'),
  Buffer.from([0xc0, 0x80]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0, 1, 2, 3]),
];

/** Raw bodies: text that looks like stored bytes, control characters, bytes that are not UTF-8. */
const RAW_BODIES: Buffer[] = [
  Buffer.from('base64:/w=='),
  Buffer.from([0xff]),
  Buffer.from('plain text'),
  Buffer.from('nul\u0000'),
  Buffer.from('nul\ufffd'),
  Buffer.from('del\u007f and c1\u0085'),
  Buffer.from('base64:cGxhaW4gdGV4dA=='),
];

/** The JSON header and binary part of an OIP binary-data body with one BYTES tensor. */
function binaryBody(
  kind: 'inputs' | 'outputs',
  elements: Buffer[],
  extra: Record<string, unknown> = {},
): { body: Buffer; headerLength: number } {
  const data = Buffer.concat(elements.flatMap((e) => [Buffer.from(Uint32Array.of(e.length).buffer), e]));
  const header = Buffer.from(
    JSON.stringify({
      ...extra,
      [kind]: [
        { name: kind === 'inputs' ? 'x' : 'y', datatype: 'BYTES', shape: [elements.length], parameters: { binary_data_size: data.length } },
      ],
    }),
  );
  return { body: Buffer.concat([header, data]), headerLength: header.length };
}

/**
 * Answers OIP requests by echoing the tensors back as outputs (JSON to JSON, binary to binary), KServe v1
 * by echoing the instances as predictions, chat completions with the prompt as the answer, and raw
 * bodies with the same bytes.
 */
function answer(path: string, headers: Record<string, unknown>, body: Buffer): { type: string; body: Buffer; headerLength?: number } {
  const headerLength = headers['inference-header-content-length'];
  if (path.startsWith('/v2/') && headerLength !== undefined) {
    const json = JSON.parse(body.subarray(0, Number(headerLength)).toString('utf8'));
    const elements: Buffer[] = [];
    const binary = body.subarray(Number(headerLength));
    for (let at = 0; at < binary.length; ) {
      const n = binary.readUInt32LE(at);
      elements.push(binary.subarray(at + 4, at + 4 + n));
      at += 4 + n;
    }
    const out = binaryBody('outputs', elements, { model_name: 'echo', ...(json.id ? { id: json.id } : {}) });
    return { type: 'application/octet-stream', body: out.body, headerLength: out.headerLength };
  }
  if (path.startsWith('/v2/')) {
    const json = JSON.parse(body.toString('utf8'));
    const outputs = json.inputs.map((t: Record<string, unknown>) => ({ ...t, name: `${t.name}-out` }));
    return { type: 'application/json', body: Buffer.from(JSON.stringify({ model_name: 'echo', outputs })) };
  }
  if (path.startsWith('/v1/models/')) {
    const json = JSON.parse(body.toString('utf8'));
    return { type: 'application/json', body: Buffer.from(JSON.stringify({ predictions: json.instances })) };
  }
  if (path === '/v1/completions') {
    const json = JSON.parse(body.toString('utf8'));
    const choices = [{ index: 0, text: json.prompt, finish_reason: 'stop' }];
    return { type: 'application/json', body: Buffer.from(JSON.stringify({ id: 'c', object: 'text_completion', model: 'm', choices })) };
  }
  return { type: String(headers['content-type'] ?? 'application/octet-stream'), body };
}

const ROUTES = [...DEFAULT_ROUTES, { path: '/raw', protocol: 'raw' as const }];

type Started = { server: never; log: ReturnType<typeof expressLog> };
const frameworks: [string, (options: InferenceLogOptions) => Started][] = [
  [
    'Express',
    (options) => {
      const log = expressLog(options);
      const app = express();
      app.use(log);
      app.use(express.raw({ type: () => true, limit: '10mb' }));
      app.post('/{*rest}', (req, res) => {
        const a = answer(req.path, req.headers, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
        if (a.headerLength !== undefined) res.set('inference-header-content-length', String(a.headerLength));
        res.type(a.type).send(a.body);
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
        const a = answer(ctx.path, ctx.headers, Buffer.concat(chunks));
        if (a.headerLength !== undefined) ctx.set('inference-header-content-length', String(a.headerLength));
        ctx.type = a.type;
        ctx.body = a.body;
      });
      return { server: app.callback() as never, log: log as never };
    },
  ],
];

afterAll(async () => {
  await audit.$pool.end();
  await dropSchema(schema);
  await endPool();
});

/** Every tensor's data, flat, by tensor name. */
const dataOf = (row: StoredRow, part: 'inputs' | 'outputs', name: string): unknown[] =>
  (row[part] as { name: string; data: unknown[] }[]).find((t) => t.name === name)!.data.flat(8);

describe.each(frameworks)('%s', (framework, make) => {
  const table = `${framework.toLowerCase()}_log`;
  let started: Started;
  let rows: StoredRow[];
  const post = (path: string, body: Buffer | string, headers: Record<string, string>, id: string) => {
    let r = request(started.server).post(path).set('x-request-id', `${framework}-${id}`);
    for (const [k, v] of Object.entries(headers)) r = r.set(k, v);
    return r.send(body);
  };
  /** One binary BYTES request per element list, from fast-check: distinct byte strings must be stored distinctly and decode back. */
  const arbitrary = fc.sample(fc.array(fc.uint8Array({ maxLength: 12 }), { minLength: 1, maxLength: 40 }), { numRuns: 10, seed: 19 });

  beforeAll(async () => {
    started = make(logOptions(schema, { table, routes: ROUTES }) as InferenceLogOptions);
    await started.log.ready();
    const json = { inputs: [{ name: 'x', datatype: 'BYTES', shape: [TEXTS.length], data: TEXTS }] };
    const sent = [
      post('/v2/models/m/infer', JSON.stringify(json), { 'content-type': 'application/json' }, 'oip-json'),
      post(
        '/v2/models/m/infer',
        JSON.stringify({ inputs: [{ ...json.inputs[0], shape: [TEXTS.length, 1], data: TEXTS.map((t) => [t]) }] }),
        { 'content-type': 'application/json' },
        'oip-nested',
      ),
      post('/v1/models/m:predict', JSON.stringify({ instances: TEXTS }), { 'content-type': 'application/json' }, 'kserve'),
      ...TEXTS.map((t, i) =>
        post('/v1/completions', JSON.stringify({ model: 'm', prompt: t }), { 'content-type': 'application/json' }, `completion-${i}`),
      ),
    ];
    const binary = binaryBody('inputs', BYTES);
    sent.push(
      post(
        '/v2/models/m/infer',
        binary.body,
        { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(binary.headerLength) },
        'oip-binary',
      ),
    );
    for (const [i, elements] of arbitrary.entries()) {
      const b = binaryBody(
        'inputs',
        elements.map((e) => Buffer.from(e)),
      );
      sent.push(
        post(
          '/v2/models/m/infer',
          b.body,
          { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(b.headerLength) },
          `arbitrary-${i}`,
        ),
      );
    }
    // Raw bodies: text that looks like stored bytes, text with control characters, bytes that are not UTF-8.
    for (const [i, body] of RAW_BODIES.entries()) sent.push(post('/raw', body, { 'content-type': 'text/plain' }, `raw-${i}`));
    for (const res of await Promise.all(sent.map((s) => s.then((r) => r)))) expect(res.status).toBe(200);
    await settle(started.log, sent.length);
    await started.log.close();
    rows = await storedRows(schema, table);
  });

  const row = (id: string) => rows.find((r) => r.request_id === `${framework}-${id}`)!;

  test('OIP v2 JSON BYTES elements (flat and nested, request and response): stored by the rule, each decodes to the string sent', () => {
    for (const id of ['oip-json', 'oip-nested']) {
      for (const [part, name] of [
        ['inputs', 'x'],
        ['outputs', 'x-out'],
      ] as const) {
        const stored = dataOf(row(id), part, name) as string[];
        expect(stored).toEqual(
          TEXTS.map((t) => expected(Buffer.from(t, 'utf8'))).map((e, i) => (TEXTS[i]!.includes('\ud800') ? stored[i] : e)),
        );
        expect(new Set(stored).size).toBe(TEXTS.length);
        for (const [i, s] of stored.entries()) if (!TEXTS[i]!.includes('\ud800')) expect(decode(s)).toEqual(Buffer.from(TEXTS[i]!, 'utf8'));
      }
    }
    // A lone surrogate cannot be UTF-8: it is stored as bytes, apart from the replacement character.
    expect(dataOf(row('oip-json'), 'inputs', 'x')[TEXTS.indexOf('lone\ud800')]).toMatch(/^base64:/);
  });

  test('OIP v2 binary BYTES elements (request and response): stored by the rule, each decodes to the bytes sent', () => {
    for (const [part, name] of [
      ['inputs', 'x'],
      ['outputs', 'y'],
    ] as const) {
      const stored = dataOf(row('oip-binary'), part, name) as string[];
      expect(stored).toEqual(BYTES.map(expected));
      expect(stored.map(decode)).toEqual(BYTES);
    }
  });

  test('a string sent in JSON and the same bytes sent binary are stored alike; different ones never', () => {
    const json = dataOf(row('oip-json'), 'inputs', 'x') as string[];
    const binary = dataOf(row('oip-binary'), 'inputs', 'x') as string[];
    for (const [i, text] of TEXTS.entries()) {
      if (text.includes('\ud800')) continue;
      expect(binary[BYTES.findIndex((b) => b.equals(Buffer.from(text, 'utf8')))]).toBe(json[i]);
    }
    expect(new Set(binary).size).toBe(new Set(BYTES.map((b) => b.toString('hex'))).size);
  });

  test('arbitrary binary BYTES elements (fast-check): distinct bytes stored distinctly, decoded back exactly', () => {
    const all = new Map<string, string>();
    for (const [i, elements] of arbitrary.entries()) {
      const stored = dataOf(row(`arbitrary-${i}`), 'inputs', 'x') as string[];
      expect(stored.map(decode)).toEqual(elements.map((e) => Buffer.from(e)));
      for (const [j, s] of stored.entries()) {
        const hex = Buffer.from(elements[j]!).toString('hex');
        if (all.has(s)) expect(all.get(s)).toBe(hex);
        all.set(s, hex);
      }
    }
  });

  test('KServe v1 and OpenAI BYTES tensors follow the same rule', () => {
    const strings = TEXTS.map((t) => (t.includes('\ud800') ? null : expected(Buffer.from(t, 'utf8'))));
    const kserve = dataOf(row('kserve'), 'inputs', 'instances') as string[];
    expect(kserve.map((s, i) => (strings[i] === null ? null : s))).toEqual(strings);
    expect((dataOf(row('kserve'), 'outputs', 'predictions') as string[]).map((s, i) => (strings[i] === null ? null : s))).toEqual(strings);
    for (const [i, text] of TEXTS.entries()) {
      if (text.includes('\ud800')) continue;
      const r = row(`completion-${i}`);
      expect(dataOf(r, 'inputs', 'prompt')).toEqual([strings[i]]);
      expect(dataOf(r, 'outputs', 'text')).toEqual([strings[i]]);
    }
  });

  test('raw bodies: text that looks like base64, control characters and non-UTF-8 bytes are each stored distinctly and decode back', () => {
    const stored = RAW_BODIES.map((_, i) => row(`raw-${i}`).request_body as string);
    expect(stored.map((s) => decode(s))).toEqual(RAW_BODIES.map((b) => Buffer.from(b)));
    expect(new Set(stored).size).toBe(RAW_BODIES.length);
    expect(RAW_BODIES.map((_, i) => row(`raw-${i}`).response_body)).toEqual(stored);
  });

  test('the rows verify', async () => {
    expect((await verifyLog(audit, schema, table)).ok).toBe(true);
  });
});
