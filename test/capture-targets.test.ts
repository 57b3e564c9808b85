// Every request target Node accepts and a framework routes to the model route is logged, exactly once,
// with the path as routed. Table-driven: for each app shape (mount points, routers, sub-apps) and each
// form of target, a raw request is sent; the rows must be exactly those of the requests the model route
// answered. A client library would normalise these targets away, so they go over a raw socket.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import Router from '@koa/router';
import mount from 'koa-mount';
import { inferenceLog as expressLog } from '@inferlog/express';
import { inferenceLog as koaLog } from '@inferlog/koa';
import type { InferenceLogOptions, LoggerControls } from '@inferlog/core';
import { dropSchema, endPool, logOptions, oipRequest, settle, storedRows, uniqueSchema } from './helpers';
import { headerOf, parseRaw, rawRequest } from './raw-http';

const schema = uniqueSchema('targets');
const logs: LoggerControls[] = [];
const MODEL_ROUTE = '/v2/models/:model/infer';
const answer = { id: 'r', outputs: [{ name: 'p', shape: [1], datatype: 'FP32', data: [0.5] }] };

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  await dropSchema(schema);
  await endPool();
});

type Framework = 'express' | 'koa';

/** An app shape: where the model route and the logger sit, and which `routes` the logger has. */
interface Shape {
  name: string;
  framework: Framework;
  /** The model route's full path for model `m` (its mount prefix included). */
  base: string;
  /** Logger options beyond the test defaults. */
  options?: InferenceLogOptions;
  /** Builds the app around the middleware; the model route answers `answer` and says it was the one. */
  app: (log: never) => { listen: (port: number) => Server };
  /** Targets the model route answers although the framework never runs the middleware for them. */
  skipsMiddleware?: (target: string) => boolean;
}

function expressModelRoute(router: express.Router): void {
  router.post(MODEL_ROUTE, express.json(), (req: express.Request, res: express.Response) => {
    res.setHeader('x-model-route', 'yes');
    res.setHeader('x-model', encodeURIComponent(req.params.model as string));
    res.json(answer);
  });
}

function koaModelRouter(options: { prefix?: string } = {}, log?: Koa.Middleware): Router {
  const router = new Router(options);
  if (log) router.use(log);
  router.post(MODEL_ROUTE, (ctx) => {
    ctx.set('x-model-route', 'yes');
    ctx.set('x-model', encodeURIComponent(ctx.params.model!));
    ctx.body = answer;
  });
  return router;
}

const fullPattern = (prefix: string) => ({ routes: [{ path: `${prefix}${MODEL_ROUTE}`, protocol: 'oip-v2' as const }] });

const SHAPES: Shape[] = [
  {
    name: 'Express: logger and route on the app',
    framework: 'express',
    base: '/v2/models/m/infer',
    app: (log) => {
      const app = express();
      app.use(log);
      expressModelRoute(app);
      return app;
    },
  },
  {
    name: "Express: logger inside a router mounted at /api (patterns relative to the router's mount)",
    framework: 'express',
    base: '/api/v2/models/m/infer',
    app: (log) => {
      const app = express();
      const router = express.Router();
      router.use(log);
      expressModelRoute(router);
      app.use('/api', router);
      return app;
    },
  },
  {
    name: 'Express: logger on the app, route in a router mounted at /api (full-path pattern)',
    framework: 'express',
    base: '/api/v2/models/m/infer',
    options: fullPattern('/api'),
    app: (log) => {
      const app = express();
      app.use(log);
      const router = express.Router();
      expressModelRoute(router);
      app.use('/api', router);
      return app;
    },
  },
  {
    name: 'Express: logger inside a sub-app mounted at /api',
    framework: 'express',
    base: '/api/v2/models/m/infer',
    app: (log) => {
      const app = express();
      const sub = express();
      sub.use(log);
      expressModelRoute(sub);
      app.use('/api', sub);
      return app;
    },
  },
  {
    name: 'Express: logger inside nested routers mounted at /a and /b, with a parameter in the mount path',
    framework: 'express',
    base: '/a/t1/b/v2/models/m/infer',
    app: (log) => {
      const app = express();
      const outer = express.Router({ mergeParams: true });
      const inner = express.Router({ mergeParams: true });
      inner.use(log);
      expressModelRoute(inner);
      outer.use('/b', inner);
      app.use('/a/:tenant', outer);
      return app;
    },
  },
  {
    name: 'Express: the same logger on the app (full-path pattern) and in the router (one row per request)',
    framework: 'express',
    base: '/api/v2/models/m/infer',
    options: {
      routes: [
        { path: `/api${MODEL_ROUTE}`, protocol: 'oip-v2' },
        { path: MODEL_ROUTE, protocol: 'oip-v2' },
      ],
    },
    app: (log) => {
      const app = express();
      app.use(log);
      const router = express.Router();
      router.use(log);
      expressModelRoute(router);
      app.use('/api', router);
      return app;
    },
  },
  {
    name: 'Koa: logger on the app, @koa/router',
    framework: 'koa',
    base: '/v2/models/m/infer',
    app: (log) => {
      const app = new Koa();
      app.use(log);
      app.use(koaModelRouter().routes());
      return app;
    },
  },
  {
    name: 'Koa: logger inside a sub-app mounted with koa-mount at /api',
    framework: 'koa',
    base: '/api/v2/models/m/infer',
    app: (log) => {
      const app = new Koa();
      const sub = new Koa();
      sub.use(log);
      sub.use(koaModelRouter().routes());
      app.use(mount('/api', sub));
      return app;
    },
  },
  {
    name: 'Koa: logger on the app, router with the prefix /api (full-path pattern)',
    framework: 'koa',
    base: '/api/v2/models/m/infer',
    options: fullPattern('/api'),
    app: (log) => {
      const app = new Koa();
      app.use(log);
      app.use(koaModelRouter({ prefix: '/api' }).routes());
      return app;
    },
  },
  {
    name: 'Koa: logger inside a router with the prefix /api, which routes by the full path (full-path pattern)',
    framework: 'koa',
    base: '/api/v2/models/m/infer',
    options: fullPattern('/api'),
    // @koa/router matches router.use() middleware to its prefix case-sensitively, its routes not.
    skipsMiddleware: (target) => target.startsWith('/API/'),
    app: (log) => {
      const app = new Koa();
      const router = new Router({ prefix: '/api' });
      router.use(log);
      router.post(MODEL_ROUTE, (ctx) => {
        ctx.set('x-model-route', 'yes');
        ctx.set('x-model', encodeURIComponent(ctx.params.model!));
        ctx.body = answer;
      });
      app.use(router.routes());
      return app;
    },
  },
  {
    name: 'Koa: logger inside a router with the prefix /api (patterns relative to the prefix)',
    framework: 'koa',
    base: '/api/v2/models/m/infer',
    skipsMiddleware: (target) => target.startsWith('/API/'),
    app: (log) => {
      const app = new Koa();
      app.use(koaModelRouter({ prefix: '/api' }, log).routes());
      return app;
    },
  },
  {
    name: 'Koa: logger inside a child router mounted with parent.use("/nest", …) (patterns relative to /nest)',
    framework: 'koa',
    base: '/nest/v2/models/m/infer',
    skipsMiddleware: (target) => target.startsWith('/NEST/'),
    app: (log) => {
      const app = new Koa();
      const child = new Router();
      child.use(log);
      child.post(MODEL_ROUTE, (ctx) => {
        ctx.set('x-model-route', 'yes');
        ctx.set('x-model', encodeURIComponent(ctx.params.model!));
        ctx.body = answer;
      });
      const parent = new Router();
      parent.use('/nest', child.routes());
      app.use(parent.routes());
      return app;
    },
  },
  {
    name: 'Koa: logger on the app, a router nested under /nest (full-path pattern)',
    framework: 'koa',
    base: '/nest/v2/models/m/infer',
    options: fullPattern('/nest'),
    app: (log) => {
      const app = new Koa();
      app.use(log);
      const parent = new Router();
      parent.use('/nest', koaModelRouter().routes());
      app.use(parent.routes());
      return app;
    },
  },
  {
    name: 'Koa: logger and router mounted together with koa-mount at /api/v1',
    framework: 'koa',
    base: '/api/v1/v2/models/m/infer',
    app: (log) => {
      const app = new Koa();
      const sub = new Koa();
      sub.use(log);
      sub.use(koaModelRouter().routes());
      app.use(mount('/api', new Koa().use(mount('/v1', sub))));
      return app;
    },
  },
];

/** Every form of target, made from the model route's full path for model `m`. */
function targets(base: string, port: number): string[] {
  const prefix = base.slice(0, base.indexOf('/v2/models/'));
  const withModel = (model: string) => `${prefix}/v2/models/${model}/infer`;
  const upper = `${prefix.toUpperCase()}/V2/MODELS/m/INFER`;
  return [
    base,
    `${base}?x=1&y=%20`,
    `${base}?`,
    // fragments: never sent by browsers, but Node and the routers accept them
    `${base}#frag`,
    `${base}#`,
    `${base}?x=1#frag`,
    `${base}#/v2/models/other/infer?x`,
    `${base}?x=#y#z`,
    // absolute form (RFC 9112 §3.2.2), any scheme, userinfo, port, case
    `http://127.0.0.1:${port}${base}`,
    `http://localhost${base}?x=1`,
    `https://example.com${base}`,
    `https://user:secret@example.com:8443${base}?q=1#f`,
    `ftp://h${base}`,
    `HTTP://EXAMPLE.COM${base}`,
    `x-scheme+v1.0://h${base}`,
    `http://[::1]:8080${base}`,
    `http://h${base}/`,
    `http://h${base}#frag`,
    `http://h${base}?#`,
    `HTTP://h${base}#`,
    `http://h:notaport${base}`,
    `http://h:8080${base}?q=http://x/y#z`,
    `http:${base}`,
    `http://h/${base}`,
    `http://h`,
    // trailing slashes, runs of slashes, dot segments
    `${base}/`,
    `${base}//`,
    `/${base}`,
    base.replace('/models/', '//models/'),
    base.replace('/v2/', '/./v2/'),
    base.replace('/models/', '/x/../models/'),
    // case
    upper,
    base.toUpperCase(),
    // percent-encoding: in parameters (encoded slashes too), in fixed segments, invalid escapes
    withModel('%6D'),
    withModel('a%2Fb'),
    withModel('a%2fb'),
    withModel('m%20x'),
    withModel('m%23x'),
    withModel('caf%C3%A9'),
    withModel('%E0%A4%A'),
    withModel('m;v=1'),
    withModel("m!$&'()*+,=@:~"),
    withModel('m%00'),
    withModel('café'),
    withModel('%2e%2e'),
    base.replace('/infer', '/%69nfer'),
    base.replace('/v2/', '/v2%2F'),
    // backslashes (turned into slashes by the URL parser when the target is not a plain path)
    `${base.replace('/models/', '\\models/')}#`,
    base.replace('/models/', '\\models/'),
    // the query without a path
    `?${base}`,
    '*',
  ];
}

describe.each(SHAPES)('$name', (shape) => {
  test('every target the model route answers is logged once, with the path as routed', async () => {
    const options = logOptions(schema, { table: `t_${SHAPES.indexOf(shape)}`, ...shape.options });
    const log = shape.framework === 'express' ? expressLog(options) : koaLog(options);
    logs.push(log);
    await log.ready();
    // The middleware says it ran, so that a request it never saw is told apart from one it missed.
    const probed =
      shape.framework === 'express'
        ? (req: express.Request, res: express.Response, next: express.NextFunction) => {
            res.setHeader('x-inferlog-ran', 'yes');
            return (log as unknown as express.RequestHandler)(req, res, next);
          }
        : (ctx: Koa.Context, next: Koa.Next) => {
            ctx.set('x-inferlog-ran', 'yes');
            return (log as unknown as Koa.Middleware)(ctx, next);
          };
    const server = shape.app(probed as never).listen(0);
    const { port } = server.address() as AddressInfo;
    const body = JSON.stringify(oipRequest([1, 2, 3, 4]));
    const answered = new Map<string, { target: string; model: string }>();
    const notAnswered: string[] = [];
    const notEchoed: string[] = [];
    const notRun: string[] = [];
    try {
      const all = targets(shape.base, port);
      for (const [i, target] of all.entries()) {
        const id = `req-${i}`;
        const raw = await rawRequest(port, 'POST', target, { 'X-Request-Id': id }, body);
        const response = raw.length > 0 ? parseRaw(raw) : null;
        if (response?.status === 200 && headerOf(response, 'x-model-route') === 'yes' && headerOf(response, 'x-inferlog-ran') !== 'yes') {
          notRun.push(target);
        } else if (response?.status === 200 && headerOf(response, 'x-model-route') === 'yes') {
          answered.set(id, { target, model: decodeURIComponent(headerOf(response, 'x-model')!) });
          if (headerOf(response, 'x-request-id') !== id) notEchoed.push(target);
        } else {
          notAnswered.push(target);
        }
      }
    } finally {
      server.close();
    }
    // The forms that must reach the model route in every shape (the frameworks agree on these).
    expect(answered.size).toBeGreaterThanOrEqual(20);
    // Missing rows are reported below by target, so the wait for them does not fail by itself.
    await settle(log, answered.size, 2_000).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    await log.flush();
    const rows = await storedRows(schema, options.table);
    const byId = new Map(rows.map((row) => [row.request_id as string, row]));
    const missing = [...answered].filter(([id]) => !byId.has(id)).map(([, { target }]) => target);
    // A row for a request the model route did not answer is one the framework refused on a selected path
    // (an undecodable parameter): it must say so, and no request may have two rows.
    const extra = rows.filter((row) => !answered.has(row.request_id) && row.status === 200).map((row) => row.path);
    const twice = rows.filter((row, i) => rows.findIndex((r) => r.request_id === row.request_id) !== i).map((row) => row.path);
    expect({ missing, extra, twice, notEchoed }).toEqual({ missing: [], extra: [], twice: [], notEchoed: [] });
    for (const [id, { target, model }] of answered) {
      const row = byId.get(id)!;
      const path = routedPathOf(target);
      // PostgreSQL refuses U+0000: it is stored as U+FFFD (docs/record.md).
      const stored = model.replaceAll(String.fromCharCode(0), '\ufffd');
      expect({ target, path: row.path, model: row.model_name, status: row.status }).toEqual({ target, path, model: stored, status: 200 });
    }
    expect(notAnswered.length).toBeGreaterThan(0);
    expect(notRun).toEqual(targets(shape.base, port).filter((t) => shape.skipsMiddleware?.(t) ?? false));
  });
});

/** The path as the routers see it: no scheme, host, query or fragment; backslashes before them made slashes. */
function routedPathOf(target: string): string {
  const plain = target.startsWith('/') && !/[#\s]/.test(target);
  const url = plain ? target : target.replace(/^[^?#]*/, (p) => p.replace(/\\/g, '/'));
  const noFragment = url.split('#')[0]!.split('?')[0]!;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(noFragment);
  if (absolute) return noFragment.slice(absolute[0].length) || '/';
  return noFragment.replace(/^[a-z][a-z0-9+.-]*:/i, '');
}
