import express from 'express';
import request from 'supertest';
import { inferenceLog, type InferenceLogMiddleware, type InferenceLogOptions } from '@inferlog/express';
import { dropSchema, endPool, logOptions, settle, storedRows, uniqueSchema } from './helpers';

const schema = uniqueSchema('select');
const logs: InferenceLogMiddleware[] = [];

function appWith(options: InferenceLogOptions, table: string) {
  const log = inferenceLog(logOptions(schema, { table, ...options }));
  logs.push(log);
  const app = express();
  app.use(log);
  app.use((_req, res) => {
    res.json({ ok: true });
  });
  return { app, log };
}

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  await dropSchema(schema);
  await endPool();
});

test('the default routes select OIP v2, KServe v1 and OpenAI-style inference calls, and nothing else', async () => {
  const { app, log } = appWith({}, 'defaults');
  const selected = [
    '/v2/models/iris/infer',
    '/v2/models/iris/versions/7/infer',
    '/v1/models/iris:predict',
    '/v1/models/iris:explain',
    '/v1/chat/completions',
    '/v1/completions',
    '/v1/embeddings',
  ];
  const unselected: [string, string][] = [
    ['get', '/v2/models/iris/infer'],
    ['post', '/v2/models/iris'],
    ['get', '/v2/health/ready'],
    ['post', '/v1/models/iris'],
    ['post', '/v1/models/iris:other'],
    ['post', '/v3/anything'],
    ['get', '/'],
  ];
  for (const path of selected) await request(app).post(path).send({}).expect(200);
  for (const [method, path] of unselected) await (request(app) as any)[method](path).expect(200);
  await settle(log, selected.length);
  const rows = await storedRows(schema, 'defaults');
  expect(rows.map((r) => r.path).sort()).toEqual([...selected].sort());
  const versioned = rows.find((r) => r.path === '/v2/models/iris/versions/7/infer');
  expect(versioned).toMatchObject({ route: '/v2/models/:model/versions/:version/infer', model_name: 'iris', model_version: '7' });
  expect(rows.find((r) => r.path === '/v1/models/iris:predict')).toMatchObject({ route: '/v1/models/:model:predict', model_name: 'iris' });
  expect(log.stats().captured).toBe(selected.length);
});

test('routes take patterns, RegExps, predicates and methods; exclude wins', async () => {
  const { app, log } = appWith(
    {
      routes: [
        { path: '/predict/:model', methods: ['post'] },
        /^\/score\//,
        ({ path, headers }) => path === '/by-header' && headers['x-log-me'] === 'yes',
      ],
      exclude: ['/predict/internal'],
    },
    'custom',
  );
  await request(app).post('/predict/a').expect(200);
  await request(app).get('/predict/a').expect(200);
  await request(app).post('/predict/internal').expect(200);
  await request(app).put('/score/x?y=1').expect(200);
  await request(app).get('/by-header').set('x-log-me', 'yes').expect(200);
  await request(app).get('/by-header').expect(200);
  await settle(log, 3);
  const rows = await storedRows(schema, 'custom');
  expect(rows.map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /by-header', 'POST /predict/a', 'PUT /score/x']);
  expect(rows.find((r) => r.path === '/predict/a')).toMatchObject({ route: '/predict/:model', model_name: 'a', protocol: 'raw' });
});

test('sample: 0.5 over 2,000 requests logs a plausible half; sample 0 logs none', async () => {
  const half = appWith({ routes: ['/s'], sample: 0.5 }, 'half');
  const none = appWith({ routes: [{ path: '/s', sample: 0 }] }, 'none');
  const server = half.app.listen(0);
  const agent = request.agent(server);
  for (let i = 0; i < 2000; i += 100) {
    await Promise.all(Array.from({ length: 100 }, () => agent.post('/s').expect(200)));
  }
  server.close();
  for (let i = 0; i < 20; i++) await request(none.app).post('/s').expect(200);
  // A binomial(2000, 0.5) count lies within 1000 ± 150 with probability 1 - 2e-11.
  const captured = half.log.stats().captured;
  expect(captured).toBeGreaterThan(850);
  expect(captured).toBeLessThan(1150);
  await settle(half.log, captured);
  expect(await storedRows(schema, 'half')).toHaveLength(captured);
  await none.log.flush();
  expect(none.log.stats().captured).toBe(0);
});
