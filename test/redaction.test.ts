// Redaction through real Express and Koa apps, read back from PostgreSQL: nothing sensitive is stored,
// the log still answers audit questions (pseudonyms join, ids of the rules that fired, digests).
import { createHash, createHmac } from 'node:crypto';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import express from 'express';
import fc from 'fast-check';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import request from 'supertest';
import { annotate, inferenceLog, type InferenceLogOptions, type RedactRule } from '@inferlog/express';
import { annotate as annotateKoa, inferenceLog as koaLog } from '@inferlog/koa';
import { apiKey, bsn, card, digitsOnly, dutchMobile, email, iban, notBsn, notCard, notIban } from '../packages/core/test/support/secrets';
import { DATABASE_URL, db, dropSchema, endPool, logOptions, settle, uniqueSchema } from './helpers';

const schema = uniqueSchema('redact');
const KEY = 'test-hmac-key-0123456789abcdef';
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
// The documented schemes, written out here: keys derived from hmacKey per use, 128-bit pseudonyms.
const derived = (key: string, use: string) => createHmac('sha256', key).update(`inferlog:${use}`).digest();
const pseudonym = (key: string, value: string) =>
  `hmac:${createHmac('sha256', derived(key, 'pseudonym')).update(value).digest('hex').slice(0, 32)}`;
const hmacDigest = (key: string, body: string) => `hmac:${createHmac('sha256', derived(key, 'body-digest')).update(body).digest('hex')}`;
const closers: (() => Promise<void>)[] = [];

/** The whole stored row as PostgreSQL renders it, for "the secret appears nowhere" checks. */
async function rowText(table: string, requestId: string): Promise<string> {
  const row = await db.one('SELECT t::text AS text FROM $1:name.$2:name t WHERE request_id = $3', [schema, table, requestId]);
  return row.text as string;
}

function expressLog(table: string, options: InferenceLogOptions) {
  const log = inferenceLog(logOptions(schema, { table, ...options }));
  closers.push(() => log.close());
  return log;
}

afterAll(async () => {
  for (const close of closers) await close();
  await dropSchema(schema);
  await endPool();
});

// The worked example in docs/redaction.md: an OIP credit-scoring request with a BSN input and an email in parameters.
const CREDIT_REQUEST = {
  id: 'application-7781',
  parameters: { applicant_email: 'j.de.vries@example.nl', channel: 'web' },
  inputs: [
    { name: 'bsn', shape: [1], datatype: 'BYTES', data: ['111222333'] },
    { name: 'features', shape: [1, 4], datatype: 'FP32', data: [[52.0, 0.31, 6, 0]] },
  ],
};
const README_RULES: RedactRule[] = [
  { input: 'bsn', action: 'hash' },
  { path: '$.parameters.applicant_email', action: 'mask', id: 'applicant-email' },
  { detect: ['email', 'iban', 'phone'], action: 'mask' },
];

test('the worked example in docs/redaction.md: BSN pseudonymised, email masked, digests of the original body, ids of the rules that fired', async () => {
  const log = expressLog('credit', { redact: README_RULES, hmacKey: KEY });
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (req, res) => {
    res.json({
      model_name: req.params.model,
      model_version: '3',
      id: req.body.id,
      outputs: [{ name: 'probability_of_default', shape: [1, 1], datatype: 'FP32', data: [0.0712] }],
    });
  });
  const body = JSON.stringify(CREDIT_REQUEST);
  await request(app)
    .post('/v2/models/credit-risk/infer')
    .set('content-type', 'application/json')
    .set('x-request-id', 'worked-example')
    .send(body)
    .expect(200);
  await settle(log, 1);
  const stored = await db.one('SELECT * FROM $1:name.credit WHERE request_id = $2', [schema, 'worked-example']);
  expect(stored).toMatchObject({
    inference_id: 'application-7781',
    model_name: 'credit-risk',
    parameters: { applicant_email: '[REDACTED]', channel: 'web' },
    inputs: [
      { name: 'bsn', shape: [1], datatype: 'BYTES', data: [pseudonym(KEY, '111222333')] },
      { name: 'features', shape: [1, 4], datatype: 'FP32', data: [[52, 0.31, 6, 0]] },
    ],
    outputs: [{ name: 'probability_of_default', data: [0.0712] }],
    redactions: ['input:bsn', 'applicant-email'],
    request_sha256: hmacDigest(KEY, body), // a key is set: digests are keyed too, so small bodies cannot be guessed
    request_bytes: String(Buffer.byteLength(body)),
  });
  const text = await rowText('credit', 'worked-example');
  for (const secret of ['111222333', 'j.de.vries@example.nl']) expect(text).not.toContain(secret);
});

test('Koa: route-scoped rules, raw bodies, headers and annotations; other routes keep their values', async () => {
  const log = koaLog(
    logOptions(schema, {
      table: 'koa_scoped',
      headers: { request: ['content-type', 'x-customer-note'] },
      redact: [{ detect: 'email', action: 'hash' }],
      hmacKey: KEY,
      routes: [
        {
          path: '/score',
          redact: [
            { path: '$.request_body.customer.iban', action: 'remove' },
            { path: '$..phone', action: 'truncate', keep: 4 },
          ],
        },
        '/echo',
      ],
    }),
  );
  closers.push(() => log.close());
  const app = new Koa();
  app.use(log);
  app.use(bodyParser());
  app.use((ctx) => {
    annotateKoa(ctx, { reviewer: 'anna@example.org' });
    ctx.body = { ok: true, contact: 'desk@example.org' };
  });
  const body = { customer: { iban: 'NL91ABNA0417164300', phone: '0612345678', email: 'Jan@Example.NL' } };
  await request(app.callback())
    .post('/score')
    .set('x-request-id', 'koa-score')
    .set('x-customer-note', 'mail jan@example.nl')
    .send(body)
    .expect(200);
  await request(app.callback())
    .post('/echo')
    .set('x-request-id', 'koa-echo')
    .send({ customer: { iban: 'NL91ABNA0417164300', phone: '0612345678' } })
    .expect(200);
  await settle(log, 2);
  const [score, echo] = await Promise.all(
    ['koa-score', 'koa-echo'].map((id) => db.one('SELECT * FROM $1:name.koa_scoped WHERE request_id = $2', [schema, id])),
  );
  expect(JSON.parse(score.request_body)).toEqual({ customer: { phone: '0612', email: pseudonym(KEY, 'jan@example.nl') } });
  expect(JSON.parse(score.response_body)).toEqual({ ok: true, contact: pseudonym(KEY, 'desk@example.org') });
  expect(score.request_headers['x-customer-note']).toBe(`mail ${pseudonym(KEY, 'jan@example.nl')}`);
  expect(score.annotations).toEqual({ reviewer: pseudonym(KEY, 'anna@example.org') });
  // Path rules run before detector rules, whichever list they come from.
  expect(score.redactions).toEqual(['$.request_body.customer.iban', '$..phone', 'email']);
  // The route without its own rules gets only the global ones: its IBAN and phone stay.
  expect(JSON.parse(echo.request_body)).toEqual({ customer: { iban: 'NL91ABNA0417164300', phone: '0612345678' } });
});

test('bodyDigest: sha256 of the original body, hmac: with the key (the default when there is one), or none', async () => {
  const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
  const digests: Record<string, unknown> = {};
  for (const mode of ['sha256', 'hmac', 'none', undefined] as const) {
    const log = expressLog(`digest_${mode ?? 'default'}`, { ...(mode ? { bodyDigest: mode } : {}), hmacKey: KEY });
    const app = express();
    app.use(log);
    app.use((_req, res) => res.type('text/plain').send('ok'));
    await request(app)
      .post('/v2/models/m/infer')
      .set('content-type', 'application/json')
      .set('x-request-id', `digest-${mode}`)
      .send(body)
      .expect(200);
    await settle(log, 1);
    digests[mode ?? 'default'] = await db.one('SELECT request_sha256, response_sha256 FROM $1:name.$2:name', [
      schema,
      `digest_${mode ?? 'default'}`,
    ]);
  }
  expect(digests).toEqual({
    sha256: { request_sha256: sha256(body), response_sha256: sha256('ok') },
    hmac: { request_sha256: hmacDigest(KEY, body), response_sha256: hmacDigest(KEY, 'ok') },
    none: { request_sha256: null, response_sha256: null },
    default: { request_sha256: hmacDigest(KEY, body), response_sha256: hmacDigest(KEY, 'ok') },
  });
});

describe('property: planted secrets never reach the database; values that fail the checksums are untouched', () => {
  const secrets = fc.record({ email, bsn, iban, card, phone: dutchMobile, key: apiKey });
  const harmless = fc.record({
    bsn: notBsn,
    card: notCard,
    iban: notIban,
    number: fc.integer({ min: 100_000_000, max: 999_999_999 }).filter((n) => !/^\d{9}$/.test(String(n)) || notBsnNumber(n)),
  });
  const filler = fc.string({ maxLength: 12 }).map((s) => s.replace(/[\d@+]/g, ''));

  function notBsnNumber(n: number): boolean {
    const d = String(n);
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += Number(d[i]) * (9 - i);
    return (sum - Number(d[8])) % 11 !== 0;
  }

  test.each(['mask', 'hash'] as const)(
    '%s: 60 random exchanges across OIP tensors, parameters, raw bodies, headers and annotations',
    async (action) => {
      const table = `planted_${action}`;
      const log = expressLog(table, {
        hmacKey: KEY,
        headers: { request: ['content-type', 'x-note'] },
        routes: [
          { path: '/v2/models/:model/infer', protocol: 'oip-v2' },
          { path: '/raw', protocol: 'raw' },
        ],
        redact: [{ detect: ['email', 'bsn', 'iban', 'creditcard', 'phone'], action }],
      });
      const app = express();
      app.use(log);
      app.use(express.json(), express.text());
      app.use((req, res) => {
        annotate(req, { note: req.get('x-note') });
        res.json({ model_name: 'm', outputs: [{ name: 'echo', shape: [1], datatype: 'BYTES', data: [JSON.stringify(req.body)] }] });
      });
      let n = 0;
      await fc.assert(
        fc.asyncProperty(secrets, harmless, filler, fc.constantFrom('oip', 'raw-json', 'raw-text'), async (secret, plain, pad, shape) => {
          const requestId = `planted-${action}-${n++}`;
          const sentence = `${pad} mail ${secret.email}, bsn ${secret.bsn}; iban ${secret.iban} card ${secret.card} tel ${secret.phone} ${pad}`;
          const harmlessText = `ref ${plain.bsn} order ${plain.card} acct ${plain.iban}`;
          const payload =
            shape === 'oip'
              ? {
                  id: requestId,
                  parameters: { note: sentence, ref: plain.number },
                  inputs: [{ name: 'customer', shape: [3], datatype: 'BYTES', data: [secret.email, sentence, harmlessText] }],
                }
              : { customer: { contact: secret.email, bsn: Number(secret.bsn), notes: [sentence, harmlessText] }, ref: plain.number };
          const req = request(app)
            .post(shape === 'oip' ? '/v2/models/m/infer' : '/raw')
            .set('x-request-id', requestId)
            .set('x-note', sentence)
            .set('authorization', `Bearer ${secret.key}`)
            .set('x-api-key', secret.key)
            .set('cookie', `session=${secret.key}`);
          await (shape === 'raw-text'
            ? req.set('content-type', 'text/plain').send(`${sentence}\n${harmlessText} ${plain.number}`)
            : req.send(payload)
          ).expect(200);
          await settle(log, n);
          const text = await rowText(table, requestId);
          const forbidden = [
            secret.email,
            secret.bsn,
            secret.iban,
            secret.card,
            secret.phone,
            secret.key,
            digitsOnly(secret.card),
            secret.iban.replace(/\s/g, ''),
            digitsOnly(secret.phone),
          ];
          // A BSN sent as a JSON number loses its leading zero; as an object member it is still found. (In
          // free text 8 digits are no BSN: the app's echo of the body as text keeps them, by design.)
          if (shape === 'raw-json' && String(Number(secret.bsn)).length === 8) {
            const stored = await db.one('SELECT request_body FROM $1:name.$2:name WHERE request_id = $3', [schema, table, requestId]);
            expect(JSON.parse(stored.request_body).customer.bsn).not.toBe(Number(secret.bsn));
          }
          for (const value of forbidden) expect(text).not.toContain(value);
          for (const value of [plain.bsn, plain.card, plain.iban, String(plain.number)]) expect(text).toContain(value);
        }),
        { numRuns: 60, seed: action === 'mask' ? 4242 : 2424 },
      );
    },
  );
});

test('HMAC pseudonyms are the same across requests and processes with the same key, and differ with another key', async () => {
  const child = (key: string, requestId: string) =>
    new Promise<void>((resolve, reject) => {
      const proc = fork(join(__dirname, 'fixtures', 'redact-child.js'), [DATABASE_URL, schema, key, requestId], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redact-child exited with ${code}`))));
    });
  await child(KEY, 'proc-a1');
  await child(KEY, 'proc-a2');
  await child('another-key-0123456789abcdefghij', 'proc-b');
  const rows = await db.any(
    "SELECT request_id, inputs -> 0 -> 'data' ->> 0 AS bsn, parameters ->> 'email' AS email FROM $1:name.inference_log WHERE request_id LIKE 'proc-%' ORDER BY request_id",
    [schema],
  );
  const [a1, a2, b] = rows;
  expect(a1.bsn).toBe(pseudonym(KEY, '111222333'));
  expect(a1.email).toBe(pseudonym(KEY, 'jan@example.nl'));
  expect([a2.bsn, a2.email]).toEqual([a1.bsn, a1.email]);
  expect(b.bsn).not.toBe(a1.bsn);
  expect(b.email).not.toBe(a1.email);
  expect(b.bsn).toBe(pseudonym('another-key-0123456789abcdefghij', '111222333'));
});

test('a streamed chat completion is redacted after reassembly: tool-call arguments assembled from pieces lose the email split across them', async () => {
  const { createOpenAiApp } = await import('../examples/src/openai-chat');
  const { TINY_MODEL } = await import('../examples/src/tiny-llm');
  const { app, log } = createOpenAiApp(logOptions(schema, { table: 'chat_stream', redact: [{ detect: 'email', action: 'mask' }] }), {
    tokenDelayMs: 1,
  });
  closers.push(() => log!.close());
  const body = {
    model: TINY_MODEL,
    stream: true,
    messages: [{ role: 'user', content: 'Find the logs of marie.curie@example.org please' }],
    tools: [{ type: 'function', function: { name: 'search_logs', parameters: { type: 'object' } } }],
  };
  const res = await request(app).post('/v1/chat/completions').set('x-request-id', 'chat-stream-redacted').send(body).expect(200);
  // The app's own answer is untouched: the email went out split across 8-character pieces.
  expect(res.text).toContain('"of marie"');
  expect(res.text).toContain('".curie@e"');
  await settle(log!, 1);
  const row = await db.one('SELECT * FROM $1:name.chat_stream', [schema]);
  expect(row.inputs[0].data).toEqual([{ role: 'user', content: 'Find the logs of [REDACTED] please' }]);
  expect(row.outputs[0].data[0].tool_calls[0].function.arguments).toBe('{"query":"Find the logs of [REDACTED] please"}');
  expect(row.redactions).toEqual(['email']);
  expect(await rowText('chat_stream', 'chat-stream-redacted')).not.toContain('marie.curie@example.org');
});

test('what path rules cannot reach is not stored: unparsed bodies withheld, duplicate keys dropped, ids, paths and parse errors searched too', async () => {
  const log = expressLog('edges', {
    routes: [{ path: '/raw/*rest', protocol: 'raw' }],
    maxBodyBytes: 200,
    redact: [
      { path: '$..password', action: 'remove' },
      { detect: 'email', action: 'mask' },
    ],
  });
  const app = express();
  app.use(log);
  app.use((_req, res) => res.status(400).json({ error: { message: 'bad', password: 'hunter2' } }));
  const send = (path: string, id: string, body: string) =>
    request(app).post(path).set('content-type', 'application/json').set('x-request-id', id).send(body).expect(400);
  await send('/raw/a', 'too-big', JSON.stringify({ password: 'hunter2', pad: 'x'.repeat(400) })); // cut at 200 bytes: not JSON
  await send('/raw/b', 'malformed', '{"password": "hunter2", oops}');
  await send('/raw/c', 'duplicate', '{"password":"hunter2","password":"x","note":"fine"}');
  await send('/raw/users/jan%40example.nl/score', 'jan@example.nl', '{}');
  await settle(log, 4);
  const rows = await db.any('SELECT * FROM $1:name.edges ORDER BY started_at, id', [schema]);
  const [big, malformed, duplicate, byPath] = rows;
  expect(big).toMatchObject({
    request_body: null,
    redactions: expect.arrayContaining(['withheld:request_body']),
    truncated: ['request_body'],
  });
  expect(malformed).toMatchObject({ request_body: null, redactions: expect.arrayContaining(['withheld:request_body']) });
  expect(JSON.parse(duplicate.request_body)).toEqual({ note: 'fine' });
  expect(byPath.path).toBe('/raw/users/[REDACTED]/score');
  expect(byPath.request_id).toBe('[REDACTED]');
  for (const row of rows) {
    expect(JSON.stringify(row)).not.toContain('hunter2');
    expect(JSON.stringify(row)).not.toContain('jan@example.nl');
    // The error keeps its message; the body it came from is in response_body, where the rules reach it.
    expect(row.error).toEqual({ status: 400, message: 'bad' });
  }
});

test('a body that could not be mapped is withheld on a route with rules for mapped fields: those rules cannot reach into it', async () => {
  const log = expressLog('unmapped', { redact: README_RULES.slice(0, 2), hmacKey: KEY });
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (req, res) => res.status(400).json({ detail: `cannot score ${JSON.stringify(req.body)}` }));
  // `inputs` is an object, not a list: the OIP mapper cannot map it and would keep the body raw.
  const body = { parameters: { applicant_email: 'j.de.vries@example.nl' }, inputs: { name: 'bsn', data: ['111222333'] } };
  await request(app).post('/v2/models/credit/infer').set('x-request-id', 'unmapped-1').send(body).expect(400);
  await settle(log, 1);
  const row = await db.one('SELECT * FROM $1:name.unmapped WHERE request_id = $2', [schema, 'unmapped-1']);
  expect(row.protocol).toBe('oip-v2');
  expect(row.request_body).toBeNull();
  expect(row.response_body).toBeNull();
  expect(row.redactions).toEqual(['withheld:request_body', 'withheld:response_body']);
  expect(Number(row.request_bytes)).toBe(JSON.stringify(body).length);
  expect(row.request_sha256).toMatch(/^hmac:[0-9a-f]{64}$/);
  const text = await rowText('unmapped', 'unmapped-1');
  for (const secret of ['111222333', 'j.de.vries@example.nl']) expect(text).not.toContain(secret);
});

test('review findings: model names, form and Latin-1 bodies, cut bodies, odd escapes and oversight events are redacted too', async () => {
  const log = expressLog('findings', {
    routes: [{ path: '/v2/models/:model/infer' }, { path: '/raw/*rest', protocol: 'raw' }],
    maxBodyBytes: 40,
    redact: [{ detect: ['email', 'creditcard', 'bsn'], action: 'mask' }],
  });
  const app = express();
  app.use(log);
  app.use((_req, res) => res.type('text/plain').send('ok'));
  const post = (path: string, id: string, type: string, body: string | Buffer) =>
    request(app).post(path).set('content-type', type).set('x-request-id', id).send(body).expect(200);
  await post('/v2/models/jan%40example.nl/infer', 'by-model', 'application/json', '{"inputs":[]}');
  await post('/raw/form', 'form', 'application/x-www-form-urlencoded', 'who=jan%40example.nl&bsn=111222333');
  await post('/raw/latin1', 'latin1', 'text/plain; charset=iso-8859-1', Buffer.from('caf\xe9 jan@example.nl', 'latin1'));
  await post('/raw/binary', 'binary', 'application/octet-stream', Buffer.from('caf\xe9 jan@example.nl', 'latin1'));
  await post('/raw/cut', 'cut', 'text/plain', 'pay with card now please: 4111 1111 1111 1111');
  await post('/raw/users/jan%40example.nl/%ZZ', 'escapes', 'text/plain', '');
  await settle(log, 6);
  await log.event('by-model', { type: 'human_review', actor: 'jan@example.nl', data: { note: 'called jan@example.nl' } });
  const rows = await db.any('SELECT * FROM $1:name.findings', [schema]);
  const byId = Object.fromEntries(rows.map((row) => [row.request_id, row]));
  expect(byId['by-model'].model_name).toBe('[REDACTED]');
  expect(byId.form.request_body).toBe('who=[REDACTED]&bsn=[REDACTED]');
  expect(byId.latin1.request_body).toBe('café [REDACTED]');
  // Not UTF-8 and no charset: kept as base64, which detectors cannot read, so withheld.
  expect(byId.binary).toMatchObject({ request_body: null, redactions: ['withheld:request_body'] });
  expect(byId.cut.truncated).toEqual(['request_body']);
  // Cut after 40 bytes, mid-card: the 12 digits that arrived are no card to Luhn, but they are its start.
  expect(byId.cut.request_body).toBe('pay with card now please:');
  expect(byId.escapes.path).toBe('/raw/users/[REDACTED]/%ZZ');
  // No key, rules on every route: no plain digest that would let anyone test guesses of a body.
  for (const row of rows) expect(row).toMatchObject({ request_sha256: null, response_sha256: null });
  const event = await db.one('SELECT * FROM $1:name.findings_event', [schema]);
  expect(event).toMatchObject({ subject: 'by-model', type: 'human_review', actor: '[REDACTED]', data: { note: 'called [REDACTED]' } });
  // Searched in what was stored of the requests, not in what inferlog generated (ids, hashes, times,
  // latencies), whose hex and decimal digits would hold a short secret like 4111 by chance.
  const GENERATED = ['id', 'chain_id', 'chain_seq', 'prev_hash', 'record_hash', 'started_at', 'ended_at', 'created_at', 'latency_ms'];
  const stored = (row: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(row).filter(([column]) => !GENERATED.includes(column)));
  const all = JSON.stringify(rows.map(stored)) + JSON.stringify(stored(event));
  for (const secret of [
    'jan@example.nl',
    'jan%40example.nl',
    '111222333',
    '4111',
    Buffer.from('jan@example.nl').toString('base64').slice(0, 12),
  ])
    expect(all).not.toContain(secret);
});

test('a rule on $.request_id reaches the request-id header too: the stored and echoed x-request-id hold what the rule made of it', async () => {
  for (const [table, rule, expected] of [
    ['rid_hash', { path: '$.request_id', action: 'hash' }, pseudonym(KEY, 'patient-7-id')],
    ['rid_mask', { path: '$.request_id', action: 'mask' }, '[REDACTED]'],
  ] as const) {
    const log = expressLog(table, { redact: [rule as RedactRule], hmacKey: KEY });
    const app = express();
    app.use(log);
    app.use(express.json());
    app.post('/v2/models/:model/infer', (req, res) => res.json({ model_name: req.params.model, outputs: [] }));
    const answer = await request(app).post('/v2/models/m/infer').set('x-request-id', 'patient-7-id').send({ inputs: [] }).expect(200);
    // The client gets its own id back: only what is stored changes.
    expect(answer.headers['x-request-id']).toBe('patient-7-id');
    await settle(log, 1);
    const [row] = await db.any('SELECT request_id, request_headers, response_headers FROM $1:name.$2:name', [schema, table]);
    expect(row.request_id).toBe(expected);
    expect(row.request_headers['x-request-id']).toBe(expected);
    expect(row.response_headers['x-request-id']).toBe(expected);
    const text = (await db.one('SELECT t::text AS text FROM $1:name.$2:name t', [schema, table])).text as string;
    expect(text).not.toContain('patient-7-id');
    // A request-id header sent twice (Node joins it: "a, a") is not taken as the request id (inferlog makes its own); the client's ids in it go through the rule too.
    await request(app).post('/v2/models/m/infer').set('x-request-id', 'patient-8-id, patient-8-id').send({ inputs: [] }).expect(200);
    await settle(log, 2);
    const rows = (await db.any('SELECT t::text AS text FROM $1:name.$2:name t', [schema, table])).map((r) => r.text as string);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).not.toMatch(/patient-\d-id/);
  }
});

test('an oversight event about a client request id that looks like a UUID gets the request id as the rule stores it; one about a record id keeps it', async () => {
  const log = expressLog('rid_uuid', { redact: [{ path: '$.request_id', action: 'hash' }], hmacKey: KEY });
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (req, res) => res.json({ model_name: req.params.model, outputs: [] }));
  const clientId = '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
  await request(app).post('/v2/models/m/infer').set('x-request-id', clientId).send({ inputs: [] }).expect(200);
  await settle(log, 1);
  const record = await db.one('SELECT id, request_id FROM $1:name.rid_uuid', [schema]);
  expect(record.request_id).toBe(pseudonym(KEY, clientId));
  const byRequestId = await log.event(clientId, { type: 'human_review', actor: 'r-1' });
  const byRecordId = await log.event(record.id, { type: 'human_review', actor: 'r-2' });
  expect(byRequestId.subject).toBe(record.request_id);
  expect(byRecordId.subject).toBe(record.id);
  const events = (await db.any('SELECT t::text AS text FROM $1:name.rid_uuid_event t', [schema])).map((r) => r.text as string);
  for (const text of events) expect(text).not.toContain(clientId);
});
