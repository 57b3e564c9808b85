import type { InferenceLogger } from './logger';

type PromClient = typeof import('prom-client');
type Registry = import('prom-client').Registry;

const COUNTERS = {
  captured: 'Exchanges captured and queued',
  written: 'Records stored in PostgreSQL (replayed ones included)',
  retried: 'Record writes that failed and were tried again',
  spilled: 'Records written to the spill journal',
  replayed: 'Records written to PostgreSQL from a spill journal',
  dropped: 'Records lost (overflow policy, refused rows, close deadline)',
} as const;
const GAUGES = {
  queue_rows: ['queueRows', 'Records waiting in memory'],
  queue_bytes: ['queueBytes', 'Bytes of captured bodies waiting in memory'],
  journal_bytes: ['journalBytes', 'Bytes in the spill journal'],
} as const;

const loggersByRegistry = new WeakMap<object, Set<InferenceLogger>>();

function loadPromClient(): PromClient {
  try {
    return require('prom-client') as PromClient;
  } catch {
    throw new Error('inferlog: the Prometheus exporter needs prom-client; install it with `pnpm add prom-client` (or npm/yarn)');
  }
}

/**
 * Exposes a logger's `stats()` as Prometheus metrics (`inferlog_written_total`, `inferlog_queue_bytes`, …,
 * labelled with `table` = schema.table) on a prom-client registry (default: prom-client's global one).
 * Values are read when the registry is scraped; nothing is added to the request path.
 */
export function registerInferlogMetrics(logger: InferenceLogger | { logger: InferenceLogger }, register?: Registry): void {
  const client = loadPromClient();
  const registry = register ?? client.register;
  const target = 'logger' in logger ? logger.logger : logger;
  let loggers = loggersByRegistry.get(registry);
  if (loggers) {
    loggers.add(target);
    return;
  }
  loggers = new Set([target]);
  loggersByRegistry.set(registry, loggers);
  const all = loggers;
  const label = (l: InferenceLogger) => `${l.options.schema}.${l.options.table}`;

  for (const [key, help] of Object.entries(COUNTERS)) {
    new client.Counter({
      name: `inferlog_${key}_total`,
      help,
      labelNames: ['table'],
      registers: [registry],
      collect() {
        this.reset();
        for (const l of all) this.labels(label(l)).inc(l.stats()[key as keyof typeof COUNTERS]);
      },
    });
  }
  for (const [name, [key, help]] of Object.entries(GAUGES)) {
    new client.Gauge({
      name: `inferlog_${name}`,
      help,
      labelNames: ['table'],
      registers: [registry],
      collect() {
        for (const l of all) this.labels(label(l)).set(l.stats()[key]);
      },
    });
  }
  new client.Gauge({
    name: 'inferlog_store_ready',
    help: '1 when the log database is connected and migrated',
    labelNames: ['table'],
    registers: [registry],
    collect() {
      for (const l of all) this.labels(label(l)).set(l.stats().storeReady ? 1 : 0);
    },
  });
}
