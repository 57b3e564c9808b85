import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { inferenceLog, type InferenceLogMiddleware, type InferenceLogOptions } from '@inferlog/koa';
import { InferenceError, inferOip, MODEL } from './model';
import { serveUntilSignal } from './serve';

/** A Koa OIP v2 model API with inferlog in front of it (pass null for the same app without it). */
export function createKoaApp(logOptions: InferenceLogOptions | null = {}): { app: Koa; log: InferenceLogMiddleware | null } {
  const app = new Koa();
  // The one line: every inference is logged to PostgreSQL. (null builds the bare app, for comparisons.)
  const log = logOptions ? inferenceLog(logOptions) : null;
  if (log) app.use(log);
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const status = err instanceof InferenceError ? err.status : ((err as { status?: number }).status ?? 500);
      ctx.status = status;
      ctx.body = { error: (err as Error).message };
    }
  });
  app.use(bodyParser({ jsonLimit: '5mb' }));

  const router = new Router();
  router.get('/v2/health/ready', (ctx) => {
    ctx.body = { ready: true };
  });
  router.post('/v2/models/:model/infer', (ctx) => {
    ctx.body = inferOip(ctx.params.model!, ctx.request.body);
  });
  router.post('/v2/models/:model/versions/:version/infer', (ctx) => {
    ctx.body = inferOip(ctx.params.model!, ctx.request.body);
  });
  app.use(router.routes());
  return { app, log };
}

if (require.main === module) {
  const { app, log } = createKoaApp();
  const port = Number(process.env.PORT ?? 8081);
  serveUntilSignal(app.listen(port), log, `OIP model API (Koa) on http://127.0.0.1:${port}/v2/models/${MODEL.name}/infer`);
}
