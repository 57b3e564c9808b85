import express from 'express';
import { inferenceLog, type InferenceLogMiddleware, type InferenceLogOptions } from '@inferlog/express';
import { InferenceError, inferOip, MODEL } from './model';
import { serveUntilSignal } from './serve';

/** An Express OIP v2 model API with inferlog in front of it (pass null for the same app without it). */
export function createExpressApp(logOptions: InferenceLogOptions | null = {}): {
  app: express.Express;
  log: InferenceLogMiddleware | null;
} {
  const app = express();
  // The one line: every inference is logged to PostgreSQL. (null builds the bare app, for comparisons.)
  const log = logOptions ? inferenceLog(logOptions) : null;
  if (log) app.use(log);
  app.use(express.json({ limit: '5mb' }));

  app.get('/v2/health/ready', (_req, res) => {
    res.json({ ready: true });
  });
  app.get('/v2/models/:model', (_req, res) => {
    res.json({
      name: MODEL.name,
      versions: [MODEL.version],
      platform: 'js',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
    });
  });
  app.post('/v2/models/:model/infer', (req, res) => {
    try {
      res.json(inferOip(req.params.model, req.body));
    } catch (err) {
      if (!(err instanceof InferenceError)) throw err;
      res.status(err.status).json({ error: err.message });
    }
  });
  app.post('/v2/models/:model/versions/:version/infer', (req, res) => {
    res.json(inferOip(req.params.model, req.body));
  });
  // Malformed JSON and other errors thrown by the stack get an OIP error body.
  app.use((err: { status?: number; message?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).json({ error: err.message ?? 'internal error' });
  });
  return { app, log };
}

if (require.main === module) {
  const { app, log } = createExpressApp();
  const port = Number(process.env.PORT ?? 8080);
  serveUntilSignal(app.listen(port), log, `OIP model API (Express) on http://127.0.0.1:${port}/v2/models/${MODEL.name}/infer`);
}
