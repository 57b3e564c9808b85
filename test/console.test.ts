// The audit console in a real browser: the records of a real Express API (whose clients plant markup in
// every field), one inference with its tensors, events and chain, filters and keyboard; and who may see it.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import Koa from 'koa';
import mount from 'koa-mount';
import request from 'supertest';
import type { Browser } from 'playwright-core';
import { inferlogConsole, startConsole, type RunningConsole } from '@inferlog/console';
import type { InferenceLogMiddleware } from '@inferlog/express';
import { tokenCookieValue } from '../packages/console/src/access';
import { openReader } from '../packages/console/src/database';
import { artifactDir, consolePage, expectInert, openBrowser, serveConsole } from './console-helpers';
import { openWriter, record } from './cli-helpers';
import { ALL_PLANTED, PLANTED, plantedApp, plantedRecord } from './console-planted';
import { DATABASE_URL, db, dropSchema, EMBEDDED, endPool, logOptions, settle, uniqueSchema } from './helpers';

const schema = uniqueSchema('console');
let log: InferenceLogMiddleware;
let running: RunningConsole;
let browser: Browser;
const EVIL_MODEL = PLANTED[0];

/** GET through node:http with chosen headers (supertest and fetch set Host themselves). */
function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const planted = plantedApp(logOptions(schema, { service: 'planted-api' }));
  log = planted.log;
  await log.ready();
  const send = (model: string, headers: Record<string, string>, label: string, parameters: Record<string, unknown>) =>
    request(planted.app)
      .post(`/v2/models/${encodeURIComponent(model)}/infer`)
      .set(headers)
      .send({ parameters, inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [label] }] });
  // Ordinary traffic first, then the attacks: the newest records are the planted ones.
  for (let i = 0; i < 60; i++)
    await send('credit', { 'x-request-id': `plain-${i}`, 'x-version': i % 2 ? '2' : '1' }, `applicant ${i}`, { id: i });
  await send('credit', { 'x-request-id': 'failed-1', 'x-status': '503' }, 'down', {});
  // Request ids are checked by the logger (a safe pattern), so through HTTP the markup goes in the model name,
  // the version, parameters, tensors and annotations.
  for (const [i, text] of PLANTED.entries())
    await send(EVIL_MODEL, { 'x-request-id': `planted-${i}`, 'x-tenant': text, 'x-version': text }, text, {
      [text]: text,
      note: ALL_PLANTED,
      id: i,
    });
  await settle(log, 61 + PLANTED.length);
  const [{ id }] = await db.any('SELECT id FROM $1:name.inference_log WHERE request_id = $2', [schema, 'planted-1']);
  await log.event(id, { type: PLANTED[0], actor: PLANTED[3], data: { note: ALL_PLANTED } });
  await log.event('planted-1', { type: 'human_review', actor: 'reviewer-7', data: { decision: 'confirmed' } });
  await log.flush();
  // And a record with markup in every column, as a writer with hostile data would store it.
  const writer = await openWriter(schema, 'planted-writer');
  await writer.write([plantedRecord(record(999, Date.now()))]);
  await writer.close();
  running = await serveConsole(schema);
  browser = await openBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await running?.close();
  await log?.close();
  await dropSchema(schema);
  await endPool();
});

test('from the list to an inference and its events: tensors as tables, the chain verified, every planted value inert text', async () => {
  const { page, requests, errors } = await consolePage(browser);
  const shots = artifactDir();
  await page.goto(running.url);
  expect(new URL(page.url()).pathname).toBe('/records');
  const rows = page.locator('table.records tbody tr');
  await expect(rows.count()).resolves.toBe(50);
  // Newest first: the record with markup in every column is on top, then the last planted request.
  // A long value is cut to 40 characters in the list, saying how much was left out.
  await expect(rows.first().locator('td').nth(7).textContent()).resolves.toBe(
    `${[...ALL_PLANTED].slice(0, 40).join('')}… (${ALL_PLANTED.length - 40} more characters)`,
  );
  await expect(rows.nth(1).locator('td').nth(7).textContent()).resolves.toBe(`planted-${PLANTED.length - 1}`);
  await page.screenshot({ path: join(shots, 'records.png'), fullPage: false });

  // Keyboard: j moves to the first record, Enter opens it.
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/inferences\/[0-9a-f-]{36}$/);
  const heading = await page.locator('h1').textContent();
  expect(heading).toMatch(/^Inference [0-9a-f-]{36}$/);

  // The planted inference with an event: open it from the list by its request id.
  await page.goto(`${running.url}records?request_id=planted-1`);
  await expect(page.locator('table.records tbody tr').count()).resolves.toBe(1);
  await page.locator('table.records td.time a').click();
  await page.waitForURL(/\/inferences\//);
  await page.locator('#chain .verdict').first().waitFor();
  await expect(page.locator('#chain .verdict').first().textContent()).resolves.toMatch(/^Verifies: This record: chain .* no problem\.$/);
  // The response's 2×3 scores as 2 rows of 3 columns; the label as text.
  const scores = page.locator('.tensor', { has: page.locator('code', { hasText: /^scores$/ }) });
  await expect(scores.locator('tbody tr').count()).resolves.toBe(2);
  await expect(scores.locator('tbody tr').first().locator('td').allTextContents()).resolves.toEqual(['0.1', '0.2', '0.7']);
  const label = page.locator('.tensor', { has: page.locator('code', { hasText: /^label$/ }) });
  await expect(label.locator('tbody td').first().textContent()).resolves.toBe(PLANTED[1]);
  // The events timeline: the planted event type and actor as text, the review.
  const events = page.locator('ol.timeline li');
  await expect(events.count()).resolves.toBe(2);
  await expect(events.locator('.event-title').allTextContents()).resolves.toEqual([
    `${PLANTED[0]} by ${PLANTED[3]}`,
    'human_review by reviewer-7',
  ]);
  await page.screenshot({ path: join(shots, 'inference.png'), fullPage: true });
  await page.locator('#events').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, 'inference-events.png') });

  const text = (await page.locator('main').textContent()) ?? '';
  for (const planted of PLANTED) expect(text).toContain(planted);

  // The record with markup in every column: every column's value is on the page as text.
  await page.goto(`${running.url}records`);
  await page.locator('table.records td.time a').first().click();
  await page.locator('#chain .verdict').first().waitFor();
  await page.screenshot({ path: join(shots, 'inference-planted.png'), fullPage: true });
  const everything = (await page.locator('main').textContent()) ?? '';
  expect(everything.split(PLANTED[0]).length).toBeGreaterThan(25);
  expect(await page.locator('.tensor').count()).toBe(2);
  await expectInert(page, requests, errors, new URL(running.url).origin);
  await page.close();
}, 60_000);

test('filters: the planted model name, a status class, a version; a filter that cannot be read says so', async () => {
  const { page, requests, errors } = await consolePage(browser);
  await page.goto(`${running.url}records`);
  await page.keyboard.press('/');
  await expect(page.$eval(':focus', (field) => field.getAttribute('name'))).resolves.toBe('since');
  await page.fill('input[name="model"]', EVIL_MODEL);
  await page.press('input[name="model"]', 'Enter');
  await page.waitForURL(/model=/);
  await expect(page.locator('table.records tbody tr').count()).resolves.toBe(PLANTED.length);
  await expect(page.locator('table.records tbody tr td:nth-child(2)').allTextContents()).resolves.toEqual(PLANTED.map(() => EVIL_MODEL));
  await page.screenshot({ path: join(artifactDir(), 'records-filtered.png') });

  await page.goto(`${running.url}records?status=5xx`);
  await expect(page.locator('table.records tbody tr td:nth-child(8)').allTextContents()).resolves.toEqual(['failed-1']);
  await page.goto(`${running.url}records?model=credit&version=2`);
  await expect(page.locator('table.records tbody tr').count()).resolves.toBe(30);
  await page.goto(`${running.url}records?annotation=${encodeURIComponent(`tenant=${PLANTED[2]}`)}`);
  await expect(page.locator('table.records tbody tr td:nth-child(8)').allTextContents()).resolves.toEqual(['planted-2']);

  await page.goto(`${running.url}records?since=yesterday-ish&model=credit`);
  await expect(page.locator('[aria-invalid="true"]').getAttribute('name')).resolves.toBe('since');
  await expect(page.locator('#problem-since').textContent()).resolves.toMatch(/is not a time/);
  await expectInert(page, requests, errors, new URL(running.url).origin);
  await page.close();
}, 60_000);

test('keyset pages: Older records continues exactly after the last row shown, without gaps or repeats', async () => {
  const seen: string[] = [];
  let path: string | null = '/records?model=credit';
  while (path) {
    const res = await rawGet(new URL(path, running.url).href);
    expect(res.status).toBe(200);
    seen.push(...[...res.body.matchAll(/href="\/inferences\/([0-9a-f-]{36})"/g)].map((m) => m[1]!));
    path = /<a class="button" rel="next" href="([^"]+)"/.exec(res.body)?.[1]?.replaceAll('&amp;', '&') ?? null;
  }
  const stored = await db.any('SELECT id FROM $1:name.inference_log WHERE model_name = $2 ORDER BY started_at DESC, id DESC', [
    schema,
    'credit',
  ]);
  expect(seen).toEqual(stored.map((r) => r.id));
});

test('every answer carries a strict Content-Security-Policy; the console only reads: other methods are refused', async () => {
  const res = await rawGet(`${running.url}records`);
  expect(res.headers['content-security-policy']).toBe(
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  );
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.body).not.toMatch(/<script>|<style|\sstyle="/i);
  for (const method of ['PUT', 'DELETE', 'PATCH']) {
    const answer = await fetch(`${running.url}records`, { method });
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET, HEAD');
  }
  // An action sent from elsewhere (no same-origin proof, no form token) is refused.
  const forged = await fetch(`${running.url}verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    body: 'csrf=guess',
  });
  expect(forged.status).toBe(403);
  // The assets are the package's own files.
  for (const asset of ['console.css', 'console.js', 'uPlot.iife.min.js', 'uPlot.min.css'])
    expect((await fetch(`${running.url}assets/${asset}`)).status).toBe(200);
  expect((await fetch(`${running.url}assets/..%2Fpackage.json`)).status).toBe(404);
});

test('without authentication it serves only loopback: another Host (DNS rebinding) or a proxy is refused; beyond loopback it will not listen', async () => {
  const { port } = running.server.address() as AddressInfo;
  expect((await rawGet(`http://127.0.0.1:${port}/records`, { host: `localhost:${port}` })).status).toBe(200);
  const rebound = await rawGet(`http://127.0.0.1:${port}/records`, { host: `evil.example:${port}` });
  expect(rebound.status).toBe(403);
  expect(rebound.body).not.toContain('credit');
  expect((await rawGet(`http://127.0.0.1:${port}/records`, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(403);
  await expect(startConsole({ database: DATABASE_URL, schema, host: '0.0.0.0', port: 0 })).rejects.toThrow(
    /would listen on 0\.0\.0\.0, beyond this machine, without authentication: give it a token/,
  );
});

test('with a token: refused without it; ?token= once sets a cookie and drops it from the address; a bearer header works', async () => {
  const token = 'console-test-token-0123456789';
  const guarded = await serveConsole(schema, { host: '0.0.0.0', token });
  try {
    const { port } = guarded.server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    const refused = await rawGet(`${base}/records`);
    expect(refused.status).toBe(401);
    expect(refused.body).not.toContain('credit');
    const name = /^(inferlog_console_[0-9a-f]{12})=/;
    expect((await rawGet(`${base}/records`, { cookie: 'inferlog_console_000000000000=1.forged' })).status).toBe(401);
    const opened = await rawGet(`${base}/records?token=${token}&model=credit`);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/records?model=credit');
    const cookie = (opened.headers['set-cookie'] ?? [])[0]!;
    expect(cookie).toMatch(/^inferlog_console_[0-9a-f]{12}=\d+\.[\w-]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(token);
    // A session is the time it began under a MAC: an older one, or one for another token, is refused.
    const cookieName = name.exec(cookie)![1]!;
    const issued = Math.floor(Date.now() / 1000) - 13 * 3600;
    expect((await rawGet(`${base}/records`, { cookie: `${cookieName}=${tokenCookieValue(token, issued)}` })).status).toBe(401);
    expect(
      (await rawGet(`${base}/records`, { cookie: `${cookieName}=${tokenCookieValue('another-token-0123456789', issued + 3600)}` })).status,
    ).toBe(401);
    expect((await rawGet(`${base}/records`, { cookie: `${cookieName}=${tokenCookieValue(token, issued + 3600)}` })).status).toBe(200);
    // The sign-in sends the browser back to a path of this console, never to another host.
    expect((await rawGet(`${base}/.//evil.example/x?token=${token}`)).headers.location).toBe('/evil.example/x');
    expect((await rawGet(`${base}//evil.example/x?token=${token}`)).headers.location).toBe('/evil.example/x');
    expect((await rawGet(`${base}/records`, { cookie: cookie.split(';')[0]! })).status).toBe(200);
    expect((await rawGet(`${base}/records`, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await rawGet(`${base}/records`, { authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
  } finally {
    await guarded.close();
  }
});

test('mounted in Express behind the app’s authentication, and in Koa with koa-mount: links stay under the mount path', async () => {
  const handler = inferlogConsole({ database: DATABASE_URL, schema, authenticate: (req) => req.headers['x-user'] === 'auditor' });
  try {
    const app = express();
    app.get('/health', (_req, res) => void res.send('ok'));
    app.use('/audit', handler);
    expect((await request(app).get('/audit/records')).status).toBe(403);
    const page = await request(app).get('/audit/records').set('x-user', 'auditor');
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="/audit/assets/console.css"');
    expect(page.text).toMatch(/href="\/audit\/inferences\/[0-9a-f-]{36}"/);
    expect((await request(app).get('/audit/').set('x-user', 'auditor')).headers.location).toBe('/audit/records');
    expect((await request(app).get('/health')).text).toBe('ok');

    const koa = new Koa();
    koa.use(mount('/audit', handler));
    koa.use((ctx) => {
      ctx.body = 'app';
    });
    const server = koa.callback();
    const koaPage = await request(server).get('/audit/records?model=credit').set('x-user', 'auditor');
    expect(koaPage.status).toBe(200);
    expect(koaPage.text).toMatch(/href="\/audit\/inferences\/[0-9a-f-]{36}"/);
    expect(koaPage.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await request(server).get('/other')).text).toBe('app');
  } finally {
    await handler.close();
  }
});

test('options are checked when the console is made: an unknown or invalid one is named', () => {
  expect(() => inferlogConsole({ database: DATABASE_URL, schema, tokn: 'x' } as never)).toThrow(/unknown console option "tokn"/);
  expect(() => inferlogConsole({ database: DATABASE_URL, token: 'short' })).toThrow(/"token" must be a secret of at least 16 characters/);
  expect(() => inferlogConsole({ database: DATABASE_URL, schema: 'no such;' })).toThrow(/option "schema" must be a plain SQL identifier/);
  expect(() => inferlogConsole({ database: DATABASE_URL, pageSize: 0 })).toThrow(/"pageSize" must be a whole number from 1 to 500/);
  expect(() => inferlogConsole({} as never)).toThrow(/"database" must be the connection string/);
});

test('it reads as inferlog_reader in read-only transactions, where the server applies them, and says what holds', async () => {
  const res = await rawGet(`${running.url}records`);
  const reader = await openReader(DATABASE_URL, 'inferlog_reader', 1);
  try {
    const { who } = await reader.db.one('SELECT current_user AS who');
    if (EMBEDDED) {
      // PGlite runs every connection in one session and ignores startup parameters: the footer says so.
      expect(reader).toMatchObject({ role: null, readOnly: false, roleNote: `the server ignored the role parameter; reading as ${who}` });
      expect(res.body).toContain(
        `the console only reads (the server ignored read-only transactions), as the connecting user (the server ignored the role parameter; reading as ${who})`,
      );
      return;
    }
    expect(res.body).toContain('read-only transactions, as role <code>inferlog_reader</code>');
    expect(who).toBe('inferlog_reader');
    expect(reader).toMatchObject({ role: 'inferlog_reader', readOnly: true, roleNote: null });
    // The database itself refuses a write, whatever the console's code did.
    await expect(reader.db.none('DELETE FROM $1:name.inference_log', [schema])).rejects.toThrow(/read-only transaction|permission denied/);
    await expect(reader.db.none('SET ROLE NONE; DELETE FROM $1:name.inference_log', [schema])).rejects.toThrow(/read-only transaction/);
  } finally {
    await reader.close();
  }
  expect((await db.one('SELECT count(*)::int AS n FROM $1:name.inference_log', [schema])).n).toBe(62 + PLANTED.length);
});
