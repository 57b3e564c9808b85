// `route` is the pattern a route was configured with, never redacted. For a RegExp or predicate rule it is
// the framework's route instead, which can hold values: Express puts the path a router was mounted at
// (`app.use('/tenants/:tenant', router)`) into it as the request gave it. That route is redacted like
// `path`, and rules can select it as `$.route`.
import type { IncomingMessage } from 'node:http';
import { Exchange } from '../src/capture/exchange';
import { resolveOptions } from '../src/options';
import { buildRecord } from '../src/record/build';
import { fallbackRecord } from '../src/record/fallback';
import type { RouteSpec } from '../src/routes';
import type { RedactRule } from '../src/redact/rules';

function record(route: RouteSpec, path: string, frameworkRoute: string | null, rules: RedactRule[]) {
  const options = resolveOptions({ database: 'postgres://unused@127.0.0.1:1/none', spillDir: false, routes: [route], redact: rules });
  const headers = { 'content-type': 'text/plain' };
  const selected = options.selector.select('POST', path, headers)!;
  const x = new Exchange(selected, { method: 'POST', url: path, headers } as unknown as IncomingMessage, options.maxBodyBytes, null);
  x.request.seal();
  x.response.seal();
  x.status = 200;
  x.frameworkRoute = frameworkRoute;
  return { row: buildRecord(x, options), fallback: fallbackRecord(x, options, new Error('x')) };
}

const EMAIL: RedactRule = { detect: 'email', action: 'mask' };
const MOUNTED = '/tenants/jan%40example.nl/predict';

test.each<[string, RouteSpec]>([
  ['a RegExp', /^\/tenants\/[^/]+\/predict$/],
  ['a predicate', (req) => req.path.startsWith('/tenants/')],
])('%s rule: the framework route, with the mount path Express filled in, is redacted like path', (_name, route) => {
  const { row, fallback } = record(route, MOUNTED, MOUNTED, [EMAIL]);
  expect(row).toMatchObject({ route: '/tenants/[REDACTED]/predict', path: '/tenants/[REDACTED]/predict', redactions: ['email'] });
  expect(fallback.route).toBeNull();
});

test('a configured pattern is stored as written; a framework route with nothing found is stored as given', () => {
  expect(record('/tenants/:tenant/predict', MOUNTED, null, [EMAIL]).row.route).toBe('/tenants/:tenant/predict');
  expect(record(/^\/tenants\//, '/tenants/acme/predict', '/tenants/acme/predict', [EMAIL]).row.route).toBe('/tenants/acme/predict');
  expect(record(/^\/tenants\//, MOUNTED, MOUNTED, []).row.route).toBe(MOUNTED);
});

test('rules select it as $.route', () => {
  const { row } = record(/^\/tenants\//, '/tenants/acme/predict', '/tenants/acme/predict', [{ path: '$.route', action: 'mask' }]);
  expect(row).toMatchObject({ route: '[REDACTED]', redactions: ['$.route'] });
});
