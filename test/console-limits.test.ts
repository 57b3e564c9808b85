// What a hostile client or a hostile page can make of the console, and how it is held: pages bounded
// whatever a record holds, invisible characters shown, access and origins checked, the app's own body
// parser and nested mounts handled.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Koa from 'koa';
import mount from 'koa-mount';
import request from 'supertest';
import { inferlogConsole, type RunningConsole } from '@inferlog/console';
import { workGate } from '../packages/console/src/gate';
import { EXPORT_TMP_PREFIX } from '../packages/console/src/pages/export-archive';
import { openWriter, record } from './cli-helpers';
import { consolePage, expectInert, openBrowser, serveConsole } from './console-helpers';
import { DATABASE_URL, dropSchema, endPool, uniqueSchema } from './helpers';

const schema = uniqueSchema('console_limits');
let running: RunningConsole;
const HOUR = 3_600_000;
const ZERO_WIDTH = 'credit\u200b';
const REVERSED = '\u202egnp.exe';

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, running.url), { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const writer = await openWriter(schema, 'limits-writer');
  const at = Date.now() - HOUR;
  const many = Array.from({ length: 300 }, (_, i) => ({
    name: `t${i}`,
    datatype: 'INT8',
    shape: [2000],
    data: new Array(2000).fill(i % 7),
  }));
  await writer.write([
    record(1, at, { request_id: 'many-tensors', model_name: 'amplify', inputs: many, outputs: null }),
    record(2, at + 1, {
      request_id: 'ragged',
      model_name: 'ragged',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [[1, 2, 3], [4]] }],
      outputs: [
        {
          name: 'y',
          datatype: 'FP32',
          shape: [2, 2],
          data: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
    }),
    record(3, at + 2, { request_id: 'zero-width', model_name: ZERO_WIDTH }),
    record(4, at + 3, { request_id: 'reversed', model_name: REVERSED }),
  ]);
  await writer.close();
  running = await serveConsole(schema);
}, 60_000);

afterAll(async () => {
  await running?.close();
  await dropSchema(schema);
  await endPool();
});

test('a record of 300 tensors of 2,000 values: the page draws 40 tensors and 20,000 values at most and names the rest', async () => {
  const page = await get('/inferences/many-tensors');
  expect(page.status).toBe(200);
  expect(page.body.length).toBeLessThan(3_000_000);
  expect((page.body.match(/<div class="tensor">/g) ?? []).length).toBe(10);
  expect((page.body.match(/<td class="num">/g) ?? []).length).toBe(20_000);
  expect(page.body).toContain('290 more tensors are not drawn (a page draws at most 40 tensors and 20,000 values): t10, t11');
});

test('ragged data is not drawn as the matrix its shape claims; regular nested data is', async () => {
  const page = await get('/inferences/ragged');
  expect(page.body).toContain('The data is nested unlike the shape says (ragged): shown as a flat list of its elements, row-major.');
  const y = page.body.slice(page.body.indexOf('<code>y</code>'));
  expect(y).toMatch(
    /<tbody><tr><th scope="row" class="index">0<\/th><td class="num">1<\/td><td class="num">2<\/td><\/tr><tr><th scope="row" class="index">1<\/th><td class="num">3<\/td><td class="num">4<\/td><\/tr><\/tbody>/,
  );
});

test('invisible and direction characters are shown as escapes, in pages and chart legends; a filter field keeps them, so Apply finds the record again', async () => {
  const list = await get('/records');
  expect(list.body).toContain('credit\\u200b');
  expect(list.body).toContain('\\u202egnp.exe');
  expect(list.body).not.toContain('\u200b');
  expect(list.body).not.toContain('\u202e');
  const stats = await get('/stats');
  expect(stats.body).not.toContain('\u202e');
  expect(stats.body).toContain('\\\\u202egnp.exe'); // in the chart's JSON, the escape's backslash is escaped

  const browser = await openBrowser();
  try {
    const { page, requests, errors } = await consolePage(browser);
    await page.goto(`${running.url}records?model=${encodeURIComponent(REVERSED)}`);
    await expect(page.inputValue('input[name="model"]')).resolves.toBe(REVERSED);
    await page.click('form.filters button[type="submit"]');
    await page.waitForLoadState();
    await expect(page.locator('table.records tbody tr').count()).resolves.toBe(1);
    await expectInert(page, requests, errors, new URL(running.url).origin);
  } finally {
    await browser.close();
  }
});

test('proxies, pages elsewhere and an authenticate that does not say true are refused', async () => {
  for (const header of ['x-real-ip', 'via', 'x-forwarded-host', 'true-client-ip', 'cf-connecting-ip'])
    expect((await get('/records', { [header]: '203.0.113.9' })).status).toBe(403);
  // A page elsewhere may link to the console, not load it as an image, script or fetch.
  expect((await get('/records', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' })).status).toBe(
    403,
  );
  expect((await get('/records', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' })).status).toBe(403);
  expect(
    (await get('/records', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' })).status,
  ).toBe(200);
  // A link from elsewhere to a monitoring run shows the form; the run waits for a person to press the button.
  const linked = await get('/monitor?run=1&since=3650d', {
    'sec-fetch-site': 'cross-site',
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
  });
  expect(linked.body).toContain('Opened from another site');
  expect(linked.body).not.toContain('Models judged');

  for (const answer of ['yes', 1, {}, new Error('denied')]) {
    const handler = inferlogConsole({ database: DATABASE_URL, schema, authenticate: () => answer as never });
    try {
      const app = express();
      app.use('/audit', handler);
      expect((await request(app).get('/audit/records')).status).toBe(403);
    } finally {
      await handler.close();
    }
  }
});

test('mounted after the app’s body parser, its actions still read their form; nested mounts keep the whole prefix', async () => {
  const handler = inferlogConsole({ database: DATABASE_URL, schema, authenticate: () => true });
  try {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use('/audit', handler);
    const form = await request(app).get('/audit/verify');
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const verified = await request(app).post('/audit/verify').set('sec-fetch-site', 'same-origin').type('form').send({ csrf });
    expect(verified.status).toBe(200);
    expect(verified.text).toContain('the log verifies');

    const koa = new Koa();
    koa.use(mount('/team', mount('/audit', handler)));
    const page = await request(koa.callback()).get('/team/audit/records');
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="/team/audit/assets/console.css"');
    expect(page.text).toMatch(/href="\/team\/audit\/inferences\/[0-9a-f-]{36}"/);
  } finally {
    await handler.close();
  }
});

test('an export directory left by a console that was killed is removed before the next export', async () => {
  const child = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
  const dead = join(tmpdir(), `${EXPORT_TMP_PREFIX}${child.pid}-left`);
  mkdirSync(dead);
  writeFileSync(join(dead, 'records.jsonl'), '{}\n');
  const form = await get('/export');
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)![1]!;
  const since = new Date(Date.now() - 2 * HOUR).toISOString();
  const answer = await fetch(new URL('/export', running.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ csrf, since, until: new Date().toISOString(), format: 'jsonl' }).toString(),
  });
  expect(answer.status).toBe(200);
  expect(Number(answer.headers.get('x-inferlog-rows'))).toBe(4);
  await answer.arrayBuffer();
  expect(existsSync(dead)).toBe(false);
});

test('long work takes one of a few places; one more is refused until a place is free', async () => {
  const gate = workGate(1);
  let finish!: () => void;
  const first = gate.run(() => new Promise<void>((resolve) => (finish = resolve)));
  await expect(gate.run(async () => 'second')).rejects.toThrow(/already running 1 long task/);
  finish();
  await first;
  await expect(gate.run(async () => 'third')).resolves.toBe('third');
});
