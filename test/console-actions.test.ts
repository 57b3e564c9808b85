// The console's two actions in a real browser: verify (the verdict, the first problem after an attacker
// changed and deleted rows, the chains and the writers' statements, every planted value inert) and export
// (a time range downloaded as a tar archive that `inferlog verify --bundle` accepts, its temporary
// directory gone afterwards); and that neither can be started from elsewhere.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { Browser } from 'playwright-core';
import type { RunningConsole } from '@inferlog/console';
import type { InferenceLogMiddleware } from '@inferlog/express';
import { cut, type ExportManifest } from '@inferlog/core/audit';
import { EXPORT_TMP_PREFIX } from '../packages/console/src/pages/export-archive';
import { artifactDir, consolePage, expectInert, openBrowser, serveConsole } from './console-helpers';
import { cli, openWriter, record, until } from './cli-helpers';
import { ALL_PLANTED, PLANTED, plantedApp, plantedRecord } from './console-planted';
import { asAttacker, db, dropSchema, endPool, logOptions, settle, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('console_actions');
const DAY = 86_400_000;
/** Backdated records: 4 a day over 6 days from 2026-05-01, one of them with markup in every column. */
const FIRST_DAY = Date.UTC(2026, 4, 1);
const DAYS = 6;
const PER_DAY = 4;
let log: InferenceLogMiddleware;
let running: RunningConsole;
let browser: Browser;
let origin: string;

/** This run's export directories in the system's temporary directory. */
const exportDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith(EXPORT_TMP_PREFIX));
let before: Set<string>;
const leftovers = () => exportDirs().filter((name) => !before.has(name));

beforeAll(async () => {
  before = new Set(exportDirs());
  // Real traffic, its writer registered under a service name full of markup (shown in the completeness report).
  const planted = plantedApp(logOptions(schema, { service: ALL_PLANTED }));
  log = planted.log;
  await log.ready();
  for (let i = 0; i < 6; i++)
    await request(planted.app)
      .post('/v2/models/credit/infer')
      .set({ 'x-request-id': `live-${i}`, 'x-tenant': PLANTED[i % PLANTED.length]! })
      .send({ parameters: { id: i }, inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [PLANTED[i % PLANTED.length]] }] });
  await settle(log, 6);
  await log.event('live-1', { type: PLANTED[0], actor: PLANTED[3], data: { note: ALL_PLANTED } });
  await log.flush();
  // A second writer (its host and service planted too) with records backdated over several days.
  const writer = await openWriter(schema, PLANTED[3]);
  const rows = [];
  for (let d = 0; d < DAYS; d++)
    for (let k = 0; k < PER_DAY; k++) {
      const i = d * PER_DAY + k;
      const at = FIRST_DAY + d * DAY + (3 + k * 5) * 3_600_000;
      rows.push(i === 9 ? plantedRecord(record(i, at)) : record(i, at));
    }
  await writer.write(rows);
  await writer.close();
  running = await serveConsole(schema);
  origin = new URL(running.url).origin;
  browser = await openBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await running?.close();
  await log?.close();
  await dropSchema(schema);
  await endPool();
});

test('export: a time range downloaded as a tar archive that verify --bundle accepts; its temporary directory is gone', async () => {
  const { page, requests, errors } = await consolePage(browser);
  await page.goto(`${running.url}export`);
  // Days 2 to 4 of the backdated records (since included, until not).
  const from = new Date(FIRST_DAY + 1 * DAY).toISOString();
  const to = new Date(FIRST_DAY + 4 * DAY).toISOString();
  await page.fill('input[name="since"]', from);
  await page.fill('input[name="until"]', to);
  await page.screenshot({ path: join(artifactDir(), 'export.png') });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()]);
  expect(download.suggestedFilename()).toBe('inferlog-20260502T000000Z-20260505T000000Z.tar');
  const dir = tempDir('console-export-');
  const archive = join(dir, download.suggestedFilename());
  await download.saveAs(archive);
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  const name = 'inferlog-20260502T000000Z-20260505T000000Z';
  expect(readdirSync(join(dir, name)).sort()).toEqual([`${name}.jsonl`, `${name}.jsonl.events.jsonl`, `${name}.jsonl.manifest.json`]);
  const manifestPath = join(dir, name, `${name}.jsonl.manifest.json`);
  const manifest: ExportManifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const [{ n }] = await db.any('SELECT count(*)::int AS n FROM $1:name.inference_log WHERE started_at >= $2 AND started_at < $3', [
    schema,
    from,
    to,
  ]);
  expect(n).toBe(3 * PER_DAY);
  expect(manifest.rows).toBe(n);
  expect(manifest.filters).toEqual({ since: from, until: to });
  expect(
    readFileSync(join(dir, name, `${name}.jsonl`), 'utf8')
      .trim()
      .split('\n'),
  ).toHaveLength(n);
  const verified = await cli(null, ['verify', '--bundle', manifestPath]);
  expect(verified.stdout).toContain('OK: size and SHA-256 match the manifest');
  expect(verified.code).toBe(0);
  await until(() => leftovers().length === 0, 'the export directory to be removed');

  // A range that cannot be read is shown beside its field; nothing is exported.
  await page.fill('input[name="since"]', '2026-05-04');
  await page.fill('input[name="until"]', '2026-05-02');
  await page.getByRole('button', { name: 'Export' }).click();
  await page.locator('#problem-until').waitFor();
  await expect(page.locator('#problem-until').textContent()).resolves.toBe('until must be later than since');
  await expect(page.locator('input[aria-invalid="true"]').getAttribute('name')).resolves.toBe('until');
  await page.screenshot({ path: join(artifactDir(), 'export-invalid.png') });
  // Markup typed into the filters comes back as the fields' values and in the problem, as text.
  await page.fill('input[name="until"]', '2026-05-06');
  await page.fill('input[name="model"]', PLANTED[1]);
  await page.fill('input[name="status"]', PLANTED[0]);
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page.locator('#problem-status').textContent()).resolves.toContain(PLANTED[0]);
  await expect(page.locator('input[name="model"]').inputValue()).resolves.toBe(PLANTED[1]);
  expect(leftovers()).toEqual([]);
  await expectInert(page, requests, errors, origin);
  await page.close();
}, 60_000);

test('export and verify refuse a POST without the form token or from another origin, and write nothing', async () => {
  const form = await (await fetch(`${running.url}export`)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(form)?.[1];
  expect(csrf).toBeTruthy();
  const body = (fields: Record<string, string>) =>
    new URLSearchParams({ since: '2026-05-01', until: '2026-05-07', format: 'jsonl', ...fields }).toString();
  const post = (path: string, headers: Record<string, string>, fields: Record<string, string>) =>
    fetch(`${running.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: body(fields),
    });
  const same = { 'sec-fetch-site': 'same-origin' };
  const elsewhere = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };
  for (const path of ['export', 'verify']) {
    expect((await post(path, same, {})).status).toBe(403);
    expect((await post(path, same, { csrf: 'guessed' })).status).toBe(403);
    expect((await post(path, elsewhere, { csrf: csrf! })).status).toBe(403);
    expect((await post(path, { origin: 'https://evil.example' }, { csrf: csrf! })).status).toBe(403);
  }
  expect(leftovers()).toEqual([]);

  // With both, the download: a tar archive (here CSV, one model) whose directory goes once it is sent, or once the client goes away.
  const res = await post('export', same, { csrf: csrf!, format: 'csv', model: 'credit' });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/x-tar');
  expect(res.headers.get('content-disposition')).toBe('attachment; filename="inferlog-20260501T000000Z-20260507T000000Z.tar"');
  const dir = tempDir('console-export-');
  writeFileSync(join(dir, 'export.tar'), Buffer.from(await res.arrayBuffer()));
  await until(() => leftovers().length === 0, 'the export directory to be removed after the download');
  execFileSync('tar', ['-xf', join(dir, 'export.tar'), '-C', dir]);
  const name = 'inferlog-20260501T000000Z-20260507T000000Z';
  const manifestPath = join(dir, name, `${name}.csv.manifest.json`);
  const manifest: ExportManifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  // Every backdated record but the one whose model name is markup.
  expect(manifest).toMatchObject({ format: 'csv', rows: DAYS * PER_DAY - 1, filters: { model: 'credit' } });
  expect((await cli(null, ['verify', '--bundle', manifestPath])).code).toBe(0);
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(
      `${running.url}export`,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...same } },
      (answer) => {
        expect(answer.statusCode).toBe(200);
        answer.on('error', () => {});
        // Gone as soon as the download starts.
        answer.once('data', () => {
          req.destroy();
          resolve();
        });
      },
    );
    req.on('error', (err) => (req.destroyed ? resolve() : reject(err)));
    req.end(body({ csrf: csrf! }));
  });
  await until(() => leftovers().length === 0, 'the export directory to be removed after the client went away');
  // And the console carries on.
  expect((await fetch(`${running.url}verify`)).status).toBe(200);
});

test('verify: OK in the browser; after an attacker changes one record and deletes another, the changed row is named first and linked', async () => {
  const { page, requests, errors } = await consolePage(browser);
  await page.goto(`${running.url}verify`);
  await expect(page.locator('form.verify-form[data-busy]').count()).resolves.toBe(1);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('.verify-verdict').waitFor();
  await expect(page.locator('#verdict-title').textContent()).resolves.toBe('OK: the log verifies');
  // Both record chains and the event chain, each ok; the writers' service names (markup) as text.
  await expect(page.locator('table.verify-chains tbody tr').count()).resolves.toBe(3);
  await expect(page.locator('table.verify-chains tbody td:last-child').allTextContents()).resolves.toEqual(['ok', 'ok', 'ok']);
  const services = await page.locator('table.verify-writers tbody td:nth-child(3)').allTextContents();
  expect(services.sort()).toEqual([PLANTED[3], cut(ALL_PLANTED, 120)].sort());
  await expect(
    page.locator('table.verify-writers tbody td:nth-child(3)[title]').evaluateAll((all) => all.map((td) => td.getAttribute('title'))),
  ).resolves.toContain(ALL_PLANTED);
  await page.screenshot({ path: join(artifactDir(), 'verify-ok.png'), fullPage: true });
  await expectInert(page, requests, errors, origin);

  // The attacker, with the table owner's rights and triggers off: seq 6 of the backdated chain changed, seq 15 deleted.
  const chain = await db.any(
    `SELECT id, chain_id, chain_seq::int AS seq FROM $1:name.inference_log WHERE request_id LIKE 'r-%' OR request_id = $2 ORDER BY chain_seq`,
    [schema, ALL_PLANTED],
  );
  expect(chain).toHaveLength(DAYS * PER_DAY);
  const changed = chain[5];
  const deleted = chain[14];
  await asAttacker('UPDATE $1:name.inference_log SET latency_ms = 0.5 WHERE id = $2', [schema, changed.id]);
  await asAttacker('DELETE FROM $1:name.inference_log WHERE id = $2', [schema, deleted.id]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('.verify-verdict.bad').waitFor();
  await expect(page.locator('#verdict-title').textContent()).resolves.toBe('DOES NOT VERIFY: the log');
  await expect(page.locator('#first-kind').textContent()).resolves.toBe('changed');
  await expect(page.locator('#first-table').textContent()).resolves.toBe('records');
  await expect(page.locator('#first-chain').textContent()).resolves.toBe(changed.chain_id);
  await expect(page.locator('#first-seq').textContent()).resolves.toBe(String(changed.seq));
  await expect(page.locator('#first-id').textContent()).resolves.toBe(changed.id);
  await expect(page.locator('#first-id a').getAttribute('href')).resolves.toBe(`/inferences/${changed.id}`);
  await expect(page.locator('#first-message').textContent()).resolves.toContain('was changed after it was written');
  // The deletion is the next problem, linked to the row after the gap.
  await expect(page.locator('ol.verify-problems li').first().textContent()).resolves.toMatch(
    new RegExp(`missing.*seq ${deleted.seq} is missing`, 's'),
  );
  await expect(page.locator('table.verify-chains tbody td:last-child').allTextContents()).resolves.toEqual(['FAILED', 'ok', 'ok']);
  await page.screenshot({ path: join(artifactDir(), 'verify-tampered.png'), fullPage: true });
  await expectInert(page, requests, errors, origin);

  // The link opens the changed record.
  await page.locator('.verify-verdict a.button').click();
  await page.waitForURL(new RegExp(`/inferences/${changed.id}$`));
  await expect(page.locator('h1').textContent()).resolves.toBe(`Inference ${changed.id}`);

  // One chain, by its id; an id that is not one is named beside its field.
  await page.goto(`${running.url}verify`);
  await page.fill('input[name="chain"]', PLANTED[1]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('#problem-chain').waitFor();
  await expect(page.locator('input[name="chain"]').inputValue()).resolves.toBe(PLANTED[1]);
  await page.fill('input[name="chain"]', changed.chain_id);
  await page.fill('input[name="since"]', 'last tuesday');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.locator('#problem-since').textContent()).resolves.toMatch(/is not a time/);
  await page.fill('input[name="since"]', '');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('.verify-verdict').waitFor();
  await expect(page.locator('#verdict-title').textContent()).resolves.toBe(`DOES NOT VERIFY: chain ${changed.chain_id}`);
  await expect(page.locator('#first-id').textContent()).resolves.toBe(changed.id);
  await expect(page.locator('table.verify-chains tbody tr').count()).resolves.toBe(1);
  await expectInert(page, requests, errors, origin);
  await page.close();
}, 60_000);
