// `inferlog console`: serves the console on loopback until interrupted and prints its address, with a token
// it makes unless given one or told --no-token; it will not listen beyond loopback without a token.
import { cli, collector, openWriter, record } from './cli-helpers';
import { dropSchema, endPool, uniqueSchema, until } from './helpers';

const schema = uniqueSchema('cli_console');

beforeAll(async () => {
  expect((await cli(schema, ['migrate'])).code).toBe(0);
  const writer = await openWriter(schema);
  await writer.write([record(1, Date.now() - 60_000), record(2, Date.now() - 30_000)]);
  await writer.close();
});

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

test('by default it makes a token: its address carries it, nothing is served without it; Ctrl-C closes it with 0', async () => {
  const stop = new AbortController();
  const stdout = collector();
  const run = cli(schema, ['console', '--port', '0', '--title', 'credit-api'], { signal: stop.signal, stdout });
  await until(() => stdout.text().includes('Ctrl-C'), 'the console to print its address', 20_000);
  expect(stdout.text()).toMatch(/^inferlog console: http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32} \(reading .*; Ctrl-C stops it\)\n$/);
  const [, url, token] = /(http:\/\/127\.0\.0\.1:\d+\/)\?token=([0-9a-f]{32})/.exec(stdout.text())!;
  expect((await fetch(`${url}records`)).status).toBe(401);
  const page = await fetch(`${url}records`, { headers: { authorization: `Bearer ${token}` } });
  expect(page.status).toBe(200);
  const text = await page.text();
  expect(text).toContain('<title>Records · credit-api audit console</title>');
  expect(text.match(/href="\/inferences\//g)).toHaveLength(2);
  stop.abort();
  expect((await run).code).toBe(0);
  await expect(fetch(`${url}records`)).rejects.toThrow();

  // --no-token: only this machine's browser, on loopback.
  const open = new AbortController();
  const out = collector();
  const tokenless = cli(schema, ['console', '--port', '0', '--no-token'], { signal: open.signal, stdout: out });
  await until(() => out.text().includes('Ctrl-C'), 'the console to print its address', 20_000);
  const plain = /(http:\/\/127\.0\.0\.1:\d+\/) \(reading/.exec(out.text())![1]!;
  expect((await fetch(`${plain}records`)).status).toBe(200);
  open.abort();
  expect((await tokenless).code).toBe(0);
}, 30_000);

test('with a token it prints the address that carries it; beyond loopback without one it refuses to start', async () => {
  const refused = await cli(schema, ['console', '--port', '0', '--host', '0.0.0.0', '--no-token']);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/would listen on 0\.0\.0\.0, beyond this machine, without authentication: give it a token \(--token/);

  const stop = new AbortController();
  const stdout = collector();
  const token = 'cli-console-token-0123456789';
  const run = cli(schema, ['console', '--port', '0', '--token', token], { signal: stop.signal, stdout });
  await until(() => stdout.text().includes('?token='), 'the console to print its address', 20_000);
  const address = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(stdout.text())![1]!;
  expect(address.endsWith(`?token=${token}`)).toBe(true);
  expect((await fetch(new URL('/records', address))).status).toBe(401);
  const opened = await fetch(address, { redirect: 'manual' });
  expect(opened.status).toBe(303);
  expect(opened.headers.get('set-cookie')).toMatch(
    /^inferlog_console_[0-9a-f]{12}=\d+\.[\w-]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/,
  );
  stop.abort();
  expect((await run).code).toBe(0);
}, 30_000);
