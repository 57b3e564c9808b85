// A model API whose clients send markup and script in every field the log stores, logged by
// @inferlog/express: what the console must show as text. Used by the console tests.
import express from 'express';
import { annotate, inferenceLog, type InferenceLogMiddleware } from '@inferlog/express';
import type { InferenceLogOptions, InferenceRecord } from '@inferlog/core';

/** Markup that would run or load something if a page ever inserted it as HTML. */
export const PLANTED = [
  '<script>globalThis.__pwned = "script"</script>',
  '"><img src=x onerror="globalThis.__pwned=\'img\'">',
  'javascript:globalThis.__pwned="link"',
  '<svg onload="globalThis.__pwned=\'svg\'"><circle r="9"/></svg>',
  "' onmouseover='globalThis.__pwned=1' x='",
  '<a href="javascript:globalThis.__pwned=2">click</a>',
  '</script><script>globalThis.__pwned="json"</script>',
  '<iframe src="https://example.invalid/"></iframe><link rel=stylesheet href=https://example.invalid/x.css>',
] as const;

/** All of them in one string: a field that holds every attack at once. */
export const ALL_PLANTED = PLANTED.join(' ');

/** An Express OIP API that echoes what it is sent into its answer, annotates each request with a client value, and its logger. */
export function plantedApp(options: InferenceLogOptions): { app: express.Express; log: InferenceLogMiddleware } {
  const app = express();
  const log = inferenceLog(options);
  app.use(log);
  app.use(express.json({ limit: '1mb' }));
  app.post('/v2/models/:model/infer', (req, res) => {
    const body = req.body as { inputs?: { name: string; data: unknown[] }[]; parameters?: Record<string, unknown> };
    annotate(req, { tenant: String(req.headers['x-tenant'] ?? 'acme') });
    const status = Number(req.headers['x-status'] ?? 200);
    if (status >= 400) {
      res.status(status).json({ error: String(req.headers['x-tenant'] ?? 'failed') });
      return;
    }
    res.setHeader('x-model-note', String(req.headers['x-tenant'] ?? 'none'));
    res.json({
      model_name: req.params.model,
      model_version: String(req.headers['x-version'] ?? '1'),
      id: String(body.parameters?.id ?? 'none'),
      parameters: body.parameters ?? {},
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [1], data: [String(body.inputs?.[0]?.data?.[0] ?? '')] },
        { name: 'scores', datatype: 'FP32', shape: [2, 3], data: [0.1, 0.2, 0.7, 0.3, 0.3, 0.4] },
      ],
    });
  });
  return { app, log };
}

/** A record with markup in every text and JSON column (what a writer would store of a hostile exchange). */
export function plantedRecord(base: InferenceRecord): InferenceRecord {
  const text = ALL_PLANTED;
  const json = { [text]: text, list: [...PLANTED] };
  return {
    ...base,
    request_id: text,
    trace_id: text,
    span_id: text,
    service: text,
    service_version: text,
    host: text,
    method: text,
    route: text,
    path: text,
    protocol: text,
    model_name: text,
    model_version: text,
    inference_id: text,
    parameters: json,
    inputs: [{ name: text, datatype: text, shape: [2, 4], data: [...PLANTED] }],
    outputs: [{ name: text, datatype: 'BYTES', shape: [text], data: text, parameters: json }],
    response_parameters: json,
    usage: json,
    error: { message: text, details: json },
    request_headers: { [text]: text },
    response_headers: { 'content-type': text },
    request_body: text,
    response_body: text,
    truncated: [...PLANTED],
    redactions: [...PLANTED],
    schema_errors: [...PLANTED],
    annotations: json,
  } as InferenceRecord;
}
