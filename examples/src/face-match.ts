// A remote biometric identification API (AI Act Annex III 1(a)) with what Art. 12(3) and 14(5) ask of
// its log: each search annotated with the reference database it was checked against and whether it led
// to a match, and the people who verified a match recorded as oversight events. `inferlog stats` and
// `inferlog query --failing-identifications` then name every match fewer than two people verified.
import express from 'express';
import { annotate, inferenceEvents, inferenceLog, type InferenceLogMiddleware, type InferenceLogOptions } from '@inferlog/express';
import { serveUntilSignal } from './serve';

/** The reference database: its name and snapshot are what the log records (Art. 12(3)(b)). */
export const WATCHLIST = {
  name: 'watchlist',
  snapshot: '2026-05-01',
  entries: [
    { id: 'W-0001', embedding: [0.12, 0.85, 0.33, 0.4] },
    { id: 'W-0002', embedding: [0.9, 0.1, 0.2, 0.37] },
  ],
};

/** Cosine similarity at or above which a probe matches an entry. */
export const THRESHOLD = 0.99;

function cosine(a: readonly number[], b: readonly number[]): number {
  const dot = a.reduce((sum, x, i) => sum + x * b[i]!, 0);
  const norm = (v: readonly number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
  return dot / (norm(a) * norm(b));
}

/** The best entry for a probe embedding, and its similarity. */
export function search(probe: readonly number[]): { candidate: string; score: number } {
  let best = { candidate: '', score: -1 };
  for (const entry of WATCHLIST.entries) {
    const score = cosine(probe, entry.embedding);
    if (score > best.score) best = { candidate: entry.id, score };
  }
  return best;
}

/**
 * The API: `POST /v2/models/face-match/infer` (OIP v2, input `embedding` FP32 [1, 4]) searches the
 * watchlist; `POST /inferences/:id/verifications` records a reviewer's verification of a result. The
 * reviewer comes from `reviewer` (here the `x-reviewer` header stands in for your authentication).
 */
export function createIdentificationApp(
  logOptions: InferenceLogOptions = {},
  reviewer: (req: express.Request) => string | undefined = (req) => req.get('x-reviewer'),
): { app: express.Express; log: InferenceLogMiddleware } {
  const app = express();
  const log = inferenceLog(logOptions);
  app.use(log);
  app.use(express.json());

  app.post('/v2/models/face-match/infer', (req, res) => {
    const probe = req.body?.inputs?.[0]?.data;
    if (!Array.isArray(probe) || probe.length !== 4 || !probe.every((x) => typeof x === 'number')) {
      res.status(400).json({ error: 'expected inputs[0] "embedding": FP32 [1, 4]' });
      return;
    }
    const { candidate, score } = search(probe);
    const match = score >= THRESHOLD;
    // Art. 12(3)(b) and (c): what the probe was checked against, and whether it matched (the row's inputs are the probe).
    annotate(req, {
      identification: { reference_database: `${WATCHLIST.name}@${WATCHLIST.snapshot}`, match, ...(match ? { candidate } : {}) },
    });
    res.json({
      model_name: 'face-match',
      model_version: '1',
      outputs: [
        { name: 'match', shape: [1], datatype: 'BOOL', data: [match] },
        { name: 'candidate', shape: [1], datatype: 'BYTES', data: [match ? candidate : ''] },
        { name: 'score', shape: [1], datatype: 'FP32', data: [Math.round(score * 1e6) / 1e6] },
      ],
    });
  });

  // Art. 14(5): each reviewer confirms (or rejects) a match as an event of type human_review or
  // second_verifier; the actor is taken from the authenticated request alone.
  app.post('/inferences/:id/verifications', inferenceEvents(log, { actor: reviewer }));
  return { app, log };
}

if (require.main === module) {
  const { app, log } = createIdentificationApp();
  const port = Number(process.env.PORT ?? 8080);
  serveUntilSignal(app.listen(port), log, `face-match identification API (Express) on http://127.0.0.1:${port}/v2/models/face-match/infer`);
}
