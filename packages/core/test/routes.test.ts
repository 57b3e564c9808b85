import fc from 'fast-check';
import parseurl from 'parseurl';
import { routedPath } from '../src/request-path';
import { compilePattern, compileRoute, DEFAULT_ROUTES, RouteSelector, routeParams } from '../src/routes';

const select = (routes = DEFAULT_ROUTES, exclude: never[] = []) =>
  new RouteSelector(
    routes.map((r) => compileRoute(r, { sample: 1 })),
    exclude,
  );

describe('compilePattern', () => {
  test.each([
    ['/v2/models/:model/infer', '/v2/models/iris/infer', { model: 'iris' }],
    ['/v2/models/:model/infer', '/v2/models/iris/infer/', { model: 'iris' }],
    ['/v1/models/:model\\:predict', '/v1/models/my-model:predict', { model: 'my-model' }],
    ['/a{/b/:x}/c', '/a/c', {}],
    ['/a{/b/:x}/c', '/a/b/7/c', { x: '7' }],
    ['/files/*rest', '/files/a/b/c', { rest: 'a/b/c' }],
    ['/v2/models/:model/infer', '/v2/models/caf%C3%A9/infer', { model: 'café' }],
  ])('%s matches %s', (pattern, path, params) => {
    const route = compileRoute(pattern, { sample: 1 });
    expect(route.matches('POST', path, {})).toBe(true);
    expect(route.params(path)).toEqual(params);
  });

  test.each([
    ['/v2/models/:model/infer', '/v2/models/a/b/infer'],
    ['/v2/models/:model/infer', '/v2/models//infer'],
    ['/v1/models/:model\\:predict', '/v1/models/m:explain'],
    ['/exact', '/exact/more'],
    ['/a.b', '/axb'],
  ])('%s does not match %s', (pattern, path) => {
    expect(compileRoute(pattern, { sample: 1 }).matches('GET', path, {})).toBe(false);
  });

  test('labels drop escapes; bad patterns throw saying why', () => {
    expect(compilePattern('/v1/models/:model\\:predict').label).toBe('/v1/models/:model:predict');
    expect(() => compilePattern('no-slash')).toThrow(/must start with "\/"/);
    expect(() => compilePattern('/a/:/b')).toThrow(/without a parameter name/);
    expect(() => compilePattern('/a{/b')).toThrow(/unclosed/);
    expect(() => compilePattern('/a}')).toThrow(/unmatched/);
  });
});

describe('RouteSelector', () => {
  test('the defaults select the inference endpoints by method and path, ignoring the query', () => {
    const s = select();
    expect(s.select('POST', '/v2/models/m/infer?x=1', {})?.protocol).toBe('oip-v2');
    expect(s.select('POST', '/v2/models/m/versions/2/infer', {})?.label).toBe('/v2/models/:model/versions/:version/infer');
    expect(s.select('POST', '/v1/models/m:predict', {})?.protocol).toBe('kserve-v1');
    expect(s.select('POST', '/v1/chat/completions', {})?.protocol).toBe('openai-chat');
    expect(s.select('GET', '/v2/models/m/infer', {})).toBeUndefined();
    expect(s.select('POST', '/v2/health/ready', {})).toBeUndefined();
  });

  test('exclude is checked first; sample 0 never selects', () => {
    const s = new RouteSelector([compileRoute('/*all', { sample: 1 })], [compileRoute('/health', { sample: 1 })]);
    expect(s.select('GET', '/health', {})).toBeUndefined();
    expect(s.select('GET', '/other', {})).toBeDefined();
    const none = new RouteSelector([compileRoute({ path: '/x', sample: 0 }, { sample: 1 })], []);
    expect(Array.from({ length: 100 }, () => none.select('GET', '/x', {})).filter(Boolean)).toHaveLength(0);
  });

  test('RegExp routes with g or y flags stay stateless; named groups become params', () => {
    const route = compileRoute(/^\/m\/(?<model>[^/]+)$/gy, { sample: 1 });
    expect([1, 2, 3].map(() => route.matches('GET', '/m/a', {}))).toEqual([true, true, true]);
    expect(route.params('/m/a')).toEqual({ model: 'a' });
  });
});

describe('routedPath: the path the frameworks route by', () => {
  test.each([
    ['/v2/models/m/infer?x=1', '/v2/models/m/infer'],
    ['/v2/models/m/infer#frag', '/v2/models/m/infer'],
    ['/v2/models/m/infer?x=1#frag', '/v2/models/m/infer'],
    ['http://h:8080/v2/models/m/infer', '/v2/models/m/infer'],
    ['https://user:pw@h/v2/models/m/infer?q#f', '/v2/models/m/infer'],
    ['HTTP://H/v2/models/m/infer', '/v2/models/m/infer'],
    ['/v2\\models/m/infer#', '/v2/models/m/infer'],
    ['/v2\\models/m/infer', '/v2\\models/m/infer'],
    ['/v2/models/a%2Fb/infer', '/v2/models/a%2Fb/infer'],
    ['http://h', '/'],
  ])('%s routes as %s', (target, path) => {
    expect(routedPath(target)).toBe(path);
  });

  test('agrees with parseurl, which Express 5, Koa and @koa/router use, on any target', () => {
    const unit = fc.constantFrom(
      '/',
      'v2',
      'm',
      '?',
      '#',
      ':',
      '@',
      '.',
      '\\',
      ' ',
      '\t',
      '%2F',
      '%',
      'http:',
      '//',
      'h',
      '\u00a0',
      'é',
      '[',
      ']',
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 12 }), (target) => {
        let expected: string | null;
        try {
          expected = parseurl({ url: target } as never)?.pathname ?? null;
        } catch {
          expected = null;
        }
        expect(routedPath(target)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('RouteSelector with a mount point', () => {
  const s = select();

  test('a route selects by the path where the middleware runs or by the full path', () => {
    expect(s.select('POST', '/v2/models/m/infer', {}, '/api/v2/models/m/infer')?.protocol).toBe('oip-v2');
    expect(s.select('POST', 'http://h/v2/models/m/infer#f', {}, 'http://h/api/v2/models/m/infer#f')?.protocol).toBe('oip-v2');
    const full = new RouteSelector([compileRoute('/api/v2/models/:model/infer', { sample: 1 })], []);
    expect(full.select('POST', '/v2/models/m/infer', {}, '/api/v2/models/m/infer')).toBeDefined();
    expect(full.select('POST', '/v2/models/m/infer', {})).toBeUndefined();
  });

  test('an exclude rule that matches either form keeps the request out; a sample is drawn once', () => {
    const ex = new RouteSelector([compileRoute('/*all', { sample: 1 })], [compileRoute('/internal/*rest', { sample: 1 })]);
    expect(ex.select('GET', '/internal/x', {}, '/api/internal/x')).toBeUndefined();
    expect(ex.select('GET', '/x', {}, '/internal/x')).toBeUndefined();
    const never = new RouteSelector([compileRoute({ path: '/x', sample: 0 }, { sample: 1 })], []);
    expect(never.decide('GET', '/x', {}, '/api/x')).toBeNull();
    expect(never.decide('GET', '/y', {}, '/api/y')).toBeUndefined();
  });

  test('parameters come from the path the route matched', () => {
    const route = compileRoute('/v2/models/:model/infer', { sample: 1 });
    expect(routeParams(route, '/v2/models/a/infer', '/api/v2/models/a/infer')).toEqual({ model: 'a' });
    const full = compileRoute('/api/v2/models/:model/infer', { sample: 1 });
    expect(routeParams(full, '/v2/models/b/infer', '/api/v2/models/b/infer')).toEqual({ model: 'b' });
  });
});
