// Oversight events (AI Act Art. 14): recorded beside the inference they concern, chained like records,
// through the logger and through the route helpers of both adapters.
import express from 'express';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import request from 'supertest';
import { inferenceEvents, inferenceLog } from '@inferlog/express';
import { verifyLog } from '@inferlog/core/audit';
import { inferenceEvents as koaEvents, inferenceLog as koaLog } from '@inferlog/koa';
import { db, dropSchema, endPool, logOptions, oipRequest, settle, uniqueSchema } from './helpers';

const schema = uniqueSchema('events');
const log = inferenceLog(logOptions(schema, { redact: [{ detect: 'email', action: 'mask' }] }));
const events = (subject?: string) =>
  db.any(`SELECT * FROM $1:name.inference_log_event ${subject ? 'WHERE subject = $2' : ''} ORDER BY chain_seq`, [schema, subject]);

afterAll(async () => {
  await log.close();
  await dropSchema(schema);
  await endPool();
});

test('events about an inference are stored with it, chained, redacted by the global rules, and never twice for one id', async () => {
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (_req, res) =>
    res.json({ model_name: 'credit', outputs: [{ name: 'p', shape: [1], datatype: 'FP32', data: [0.9] }] }),
  );
  await request(app)
    .post('/v2/models/credit/infer')
    .set('x-request-id', 'loan-1')
    .send(oipRequest([1, 2, 3, 4]))
    .expect(200);
  await settle(log, 1);
  const [{ id }] = await db.any("SELECT id FROM $1:name.inference_log WHERE request_id = 'loan-1'", [schema]);

  const review = await log.event('loan-1', {
    type: 'human_review',
    actor: 'reviewer-17',
    data: { decision: 'confirmed', note: 'called jan@example.nl' },
  });
  const override = await log.event(id, { type: 'override', actor: 'reviewer-17', data: { from: 0.9, to: 0.2, reason: 'income verified' } });
  const label = '0190a7e4-1111-7000-8000-00000000beef';
  const first = await log.event(id, { type: 'ground_truth', data: { defaulted: false }, id: label });
  const again = await log.event(id, { type: 'ground_truth', data: { defaulted: false }, id: label });
  expect(again.id).toBe(first.id);

  const stored = await events();
  expect(stored.map((e) => [e.subject, e.type, e.actor, e.chain_seq])).toEqual([
    ['loan-1', 'human_review', 'reviewer-17', '1'],
    [id, 'override', 'reviewer-17', '2'],
    [id, 'ground_truth', null, '3'],
  ]);
  expect(stored[0]).toMatchObject({
    id: review.id,
    data: { decision: 'confirmed', note: 'called [REDACTED]' },
    redactions: ['email'],
    record_hash: review.record_hash,
  });
  expect(stored[1].prev_hash).toBe(review.record_hash);
  expect(stored[1].record_hash).toBe(override.record_hash);
  const report = await verifyLog(db, schema, 'inference_log');
  expect(report).toMatchObject({ ok: true, rows: 4, problems: [] });
  expect(report.chains.map((c) => [c.table, c.rows])).toEqual([
    ['records', 1],
    ['events', 3],
  ]);
});

test('invalid events are refused with a message that names the field', async () => {
  await expect(log.event('x', { type: '' })).rejects.toThrow(
    'invalid oversight event: "type" must be a string of 1 to 200 characters; got 0 characters',
  );
  await expect(log.event('', { type: 'feedback' })).rejects.toThrow('"subject" must be a string of 1 to 200 characters; got 0 characters');
  await expect(log.event('x', { type: 'feedback', colour: 'red' } as never)).rejects.toThrow(
    'unknown field "colour"; fields are type, actor, data, id',
  );
  await expect(log.event('x', { type: 'feedback', id: 'not-a-uuid' })).rejects.toThrow('"id" must be a UUID');
});

test('an id already taken by another event is refused (409 from the route); the same event sent again is answered with the stored one', async () => {
  const id = '0190a7e4-2222-7000-8000-00000000cafe';
  const first = await log.event('loan-9', { type: 'human_review', actor: 'reviewer-3', data: { decision: 'approve', score: 0.7 }, id });
  // Same content, keys in another order: the same event.
  expect(
    await log.event('loan-9', { type: 'human_review', actor: 'reviewer-3', data: { score: 0.7, decision: 'approve' }, id }),
  ).toMatchObject({ id, record_hash: first.record_hash });
  for (const [other, field] of [
    [{ type: 'human_review', actor: 'reviewer-3', data: { decision: 'reject', score: 0.7 } }, 'data'],
    [{ type: 'override', actor: 'reviewer-3', data: { decision: 'approve', score: 0.7 } }, 'type'],
    [{ type: 'human_review', actor: 'reviewer-4', data: { decision: 'approve', score: 0.7 } }, 'actor'],
  ] as const) {
    await expect(log.event('loan-9', { ...other, id })).rejects.toMatchObject({
      code: 'E_EVENT',
      message: expect.stringContaining(`id ${id} is already stored for an event with another ${field}`),
    });
  }
  await expect(
    log.event('loan-10', { type: 'human_review', actor: 'reviewer-3', data: { decision: 'approve', score: 0.7 }, id }),
  ).rejects.toThrow(/another subject/);

  const app = express();
  app.post('/inferences/:id/events', express.json(), inferenceEvents(log));
  const conflict = await request(app)
    .post('/inferences/loan-9/events')
    .send({ type: 'human_review', actor: 'reviewer-3', data: { decision: 'reject' }, id })
    .expect(409);
  expect(conflict.body.error).toMatch(/already stored for an event with another data/);
  expect((await events('loan-9')).map((e) => e.data)).toEqual([{ decision: 'approve', score: 0.7 }]);
});

test('with an actor option, the route takes the actor from it alone: a request it finds none for is refused with 403, whatever the body says', async () => {
  const app = express();
  const user = (req: express.Request) => (req.headers['x-user'] as string | undefined) ?? undefined;
  app.post('/a/:id/events', express.json(), inferenceEvents(log, { actor: user }));
  app.post('/b/:id/events', express.json(), inferenceEvents(log, { actor: (req) => (req as unknown as { user: { id: string } }).user.id }));
  for (const path of ['/a/loan-11/events', '/b/loan-11/events']) {
    const refused = await request(app).post(path).send({ type: 'feedback', actor: 'claimed-in-body' }).expect(403);
    expect(refused.body.error).toMatch(/could not tell who is recording this event/);
  }
  await request(app).post('/a/loan-11/events').set('x-user', 'sso:bob').send({ type: 'feedback', actor: 'claimed-in-body' }).expect(201);

  const koa = new Koa();
  const router = new Router();
  router.post('/k/:id/events', bodyParser(), koaEvents(log, { actor: (ctx) => ctx.get('x-user') || undefined }));
  koa.use(router.routes());
  await request(koa.callback()).post('/k/loan-11/events').send({ type: 'feedback', actor: 'claimed-in-body' }).expect(403);
  await request(koa.callback()).post('/k/loan-11/events').set('x-user', 'sso:eve').send({ type: 'feedback' }).expect(201);
  expect((await events('loan-11')).map((e) => e.actor)).toEqual(['sso:bob', 'sso:eve']);
});

test('the route helpers record events from Express and Koa; the authenticated actor wins over the body', async () => {
  const app = express();
  app.post('/inferences/:id/events', express.json(), inferenceEvents(log, { actor: () => 'sso:anna' }));
  const created = await request(app)
    .post('/inferences/loan-2/events')
    .send({ type: 'feedback', actor: 'someone-else', data: { helpful: true } })
    .expect(201);
  expect(created.body).toMatchObject({ subject: 'loan-2', type: 'feedback', actor: 'sso:anna', data: { helpful: true } });
  expect((await request(app).post('/inferences/loan-2/events').send({ data: 1 }).expect(400)).body.error).toMatch(/"type" is required/);

  const koaLogger = koaLog(logOptions(schema, { table: 'koa_log' }));
  const koa = new Koa();
  const router = new Router();
  router.post('/inferences/:id/events', bodyParser(), koaEvents(koaLogger));
  koa.use(router.routes());
  const viaKoa = await request(koa.callback())
    .post('/inferences/loan-3/events')
    .send({ type: 'incident', actor: 'ops', data: { severity: 'high' } })
    .expect(201);
  expect(viaKoa.body).toMatchObject({ subject: 'loan-3', type: 'incident', actor: 'ops' });
  await koaLogger.close();
  // The event, and the logger's final completeness statement (about its record chain) at close.
  expect(
    (await db.any('SELECT subject, type FROM $1:name.koa_log_event ORDER BY created_at', [schema])).map((e) => [e.subject, e.type]),
  ).toEqual([
    ['loan-3', 'incident'],
    [koaLogger.logger.chain.id, 'inferlog.completeness'],
  ]);
  expect((await events('loan-2')).map((e) => e.actor)).toEqual(['sso:anna']);
});
