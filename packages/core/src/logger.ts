import type { IncomingHttpHeaders } from 'node:http';
import type { Exchange, ExchangeSink } from './capture/exchange';
import { describe, InferlogError, type InferlogErrorCode } from './errors';
import { resolveOptions, type InferenceLogOptions, type ResolvedOptions } from './options';
import { buildRecord } from './record/build';
import type { InferenceRecord } from './record/record';
import type { CompiledRoute } from './routes';
import { openPostgresSink } from './sink/connect';
import type { RecordSink } from './sink/postgres-sink';

/** Counters and gauges of one logger, from `stats()`. */
export interface InferenceLogStats {
  /** Exchanges captured and handed to the queue. */
  captured: number;
  /** Records stored in PostgreSQL. */
  written: number;
  /** Record writes that failed and were queued again (one per record per failed attempt). */
  retried: number;
  /** Records lost: queue full, or still unwritten at the `close()` deadline. Each is reported to `onError`. */
  dropped: number;
  /** Records waiting to be written. */
  queueRows: number;
  /** Bytes of captured bodies waiting to be written. */
  queueBytes: number;
  /** Whether the store is connected and migrated. */
  storeReady: boolean;
  /** The last failure's message, or null. */
  lastError: string | null;
}

/** Options of `close()`. */
export interface CloseOptions {
  /** How long to keep trying to write what is queued, in ms. Default 10 000. */
  timeoutMs?: number;
}

interface Batch {
  records: InferenceRecord[];
  bytes: number;
}

const MAX_BACKOFF_MS = 30_000;
const DEFAULT_REPORT_INTERVAL_MS = 60_000;

const liveLoggers = new Set<InferenceLogger>();
let exitHooked = false;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The framework-independent logger: selects routes, queues captured exchanges, and turns them into
 * records and batched INSERTs off the request path. The adapters are thin wrappers around it.
 */
export class InferenceLogger implements ExchangeSink {
  readonly options: ResolvedOptions;
  private queue: Exchange[] = [];
  private queueBytes = 0;
  /** Records built from a batch whose write failed, written first on the next attempt. */
  private retryBatch: Batch | null = null;
  /** The batch being written right now. */
  private inFlight: Batch | null = null;
  private counts = { captured: 0, written: 0, retried: 0, dropped: 0 };
  private lastError: string | null = null;
  /** The last failure to open the store or write a batch (cleared by a successful write). */
  private lastWriteError: string | null = null;
  private sink: RecordSink | null = null;
  private opening: Promise<RecordSink> | null = null;
  private startError: InferlogError | null = null;
  private draining: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private backoffUntil = 0;
  private closed = false;
  private readonly reported = new Map<InferlogErrorCode, number>();

  constructor(options: InferenceLogOptions | ResolvedOptions = {}, private readonly openSink = openPostgresSink) {
    this.options = 'selector' in options ? (options as ResolvedOptions) : resolveOptions(options as InferenceLogOptions);
    liveLoggers.add(this);
    if (liveLoggers.size === 1 && !exitHooked) {
      exitHooked = true;
      // Timers are unref'd so a logger never keeps a process alive; when the event loop empties,
      // this writes what is still queued (the write itself keeps the process alive until done).
      process.on('beforeExit', () => {
        for (const logger of liveLoggers) if (logger.pendingRows > 0) logger.flush().catch(() => {});
      });
    }
    this.open().catch(() => {});
  }

  get maxBodyBytes(): number {
    return this.options.maxBodyBytes;
  }

  get requestIdHeader(): string | null {
    return this.options.requestIdHeader;
  }

  /** The hot path's one call for every request: the route that logs it, or undefined. */
  select(method: string, url: string, headers: IncomingHttpHeaders): CompiledRoute | undefined {
    return this.closed ? undefined : this.options.selector.select(method, url, headers);
  }

  /** Takes a finished exchange. Never throws; a full queue drops the record, counts it and reports it. */
  enqueue(exchange: Exchange): void {
    if (this.closed) {
      this.drop(1, 'E_CLOSED', 'a request finished after close(); its record was not written');
      return;
    }
    const bytes = exchange.heldBytes;
    if (this.queueBytes + bytes > this.options.maxQueueBytes) {
      const cause = this.lastWriteError ? `last write error: ${this.lastWriteError}` : 'writes are slower than requests arrive';
      this.drop(1, 'E_QUEUE_FULL', `the queue is full (maxQueueBytes ${this.options.maxQueueBytes}; ${cause}); a record was dropped`);
      return;
    }
    this.queue.push(exchange);
    this.queueBytes += bytes;
    this.counts.captured++;
    if (this.queue.length >= this.options.batch.maxRows || this.queueBytes >= this.options.batch.maxBytes) {
      this.schedule(0);
    } else if (!this.timer) {
      this.schedule(this.options.batch.flushIntervalMs);
    }
  }

  /** Reports a failure inside the middleware's capture; the request itself goes on unlogged. */
  captureFailed(err: unknown): void {
    this.report('E_CAPTURE', `capturing a request failed; it was served but not logged: ${describe(err)}`, err);
  }

  /** Writes everything queued now. Rejects when a write fails (the records stay queued and are retried). */
  async flush(): Promise<void> {
    this.backoffUntil = 0;
    while (this.pendingRows > 0) {
      const before = this.counts.written;
      await this.drain();
      if (this.pendingRows > 0 && this.counts.written === before) {
        throw new InferlogError('E_WRITE', `${this.pendingRows} records are still queued: ${this.lastError}`);
      }
    }
  }

  /**
   * Stops capturing, writes what is queued (retrying until `timeoutMs`), and releases the connection.
   * Rejects, after releasing everything, when records could not be written in time; they are counted as dropped.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    this.closed = true;
    liveLoggers.delete(this);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.pendingRows > 0 && Date.now() < deadline) {
      try {
        await this.flush();
      } catch {
        await sleep(Math.min(Math.max(this.backoffUntil - Date.now(), 50), Math.max(deadline - Date.now(), 0)));
      }
    }
    const lost = this.pendingRows;
    if (lost > 0) {
      this.queue = [];
      this.retryBatch = null;
      this.queueBytes = 0;
    }
    const sink = this.sink ?? (await this.opening?.catch(() => null));
    this.sink = null;
    await sink?.close().catch((err) => this.report('E_CLOSED', `closing the database connection failed: ${describe(err)}`, err));
    if (lost > 0) {
      const error = this.drop(lost, 'E_CLOSED', `${lost} records could not be written before the close() deadline: ${this.lastError}`);
      throw error;
    }
  }

  /** Resolves once the store is connected and migrated; rejects with the start-up error if that failed. */
  async ready(): Promise<void> {
    await this.open();
  }

  stats(): InferenceLogStats {
    return {
      ...this.counts,
      queueRows: this.pendingRows,
      queueBytes: this.queueBytes,
      storeReady: this.sink !== null,
      lastError: this.lastError,
    };
  }

  private get pendingRows(): number {
    return this.queue.length + (this.retryBatch?.records.length ?? 0) + (this.inFlight?.records.length ?? 0);
  }

  private open(): Promise<RecordSink> {
    if (this.sink) return Promise.resolve(this.sink);
    if (this.opening) return this.opening;
    this.opening = this.openSink(this.options).then(
      (sink) => {
        this.opening = null;
        this.startError = null;
        this.sink = sink;
        return sink;
      },
      (err: unknown) => {
        this.opening = null;
        this.startError = this.report('E_STORE_START', `cannot open the log database (records wait in the queue and are retried): ${describe(err)}`, err);
        throw this.startError;
      },
    );
    return this.opening;
  }

  private schedule(ms: number): void {
    if (this.closed && ms > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain().catch(() => {});
    }, ms);
    this.timer.unref();
  }

  /** Writes batches until the queue is empty or a write fails (then backs off and schedules a retry). */
  private drain(): Promise<void> {
    this.draining ??= this.drainLoop().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private async drainLoop(): Promise<void> {
    while (this.pendingRows > 0) {
      const wait = this.backoffUntil - Date.now();
      if (wait > 0) {
        this.schedule(wait);
        return;
      }
      const batch = this.retryBatch ?? this.takeBatch();
      this.retryBatch = null;
      this.inFlight = batch;
      try {
        const sink = await this.open();
        await sink.insert(batch.records);
        this.queueBytes -= batch.bytes;
        this.counts.written += batch.records.length;
        this.failures = 0;
        this.lastWriteError = null;
        this.inFlight = null;
      } catch (err) {
        this.inFlight = null;
        this.lastWriteError = describe(err);
        this.retryBatch = batch;
        this.counts.retried += batch.records.length;
        this.failures++;
        const backoff = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(this.failures, 16));
        this.backoffUntil = Date.now() + backoff / 2 + Math.random() * (backoff / 2);
        if (!(err instanceof InferlogError)) {
          this.report('E_WRITE', `writing ${batch.records.length} records failed (retrying): ${describe(err)}`, err);
        }
        if (!this.closed) this.schedule(this.backoffUntil - Date.now());
        return;
      }
    }
  }

  private takeBatch(): Batch {
    const { maxRows, maxBytes } = this.options.batch;
    const records: InferenceRecord[] = [];
    let bytes = 0;
    let taken = 0;
    while (taken < this.queue.length && records.length < maxRows && (records.length === 0 || bytes < maxBytes)) {
      const exchange = this.queue[taken++];
      bytes += exchange.heldBytes;
      records.push(this.toRecord(exchange));
    }
    this.queue.splice(0, taken);
    return { records, bytes };
  }

  private toRecord(exchange: Exchange): InferenceRecord {
    try {
      return buildRecord(exchange, this.options);
    } catch (err) {
      this.report('E_RECORD', `building the record of request ${exchange.requestId} failed; a minimal record is stored instead: ${describe(err)}`, err);
      return fallbackRecord(exchange, this.options, err);
    }
  }

  private drop(count: number, code: InferlogErrorCode, message: string): InferlogError {
    this.counts.dropped += count;
    return this.report(code, message);
  }

  /** Sends a failure to `onError` (or stderr, once a minute per kind). Never throws. */
  private report(code: InferlogErrorCode, message: string, cause?: unknown): InferlogError {
    const error = new InferlogError(code, message, { cause });
    this.lastError = message;
    try {
      if (this.options.onError) {
        this.options.onError(error);
      } else {
        const last = this.reported.get(code) ?? 0;
        if (Date.now() - last >= DEFAULT_REPORT_INTERVAL_MS) {
          this.reported.set(code, Date.now());
          console.error(error.message);
        }
      }
    } catch {
      // onError itself failed: nothing more can be done without risking the host app.
    }
    return error;
  }
}

function fallbackRecord(x: Exchange, o: ResolvedOptions, err: unknown): InferenceRecord {
  const q = x.url.indexOf('?');
  return {
    id: x.id, started_at: new Date(x.startedAt), ended_at: new Date(x.startedAt + x.latencyMs), latency_ms: x.latencyMs,
    request_id: x.requestId, trace_id: null, span_id: null, service: o.service, service_version: o.serviceVersion,
    host: o.host, method: x.method, route: x.route.label, path: q === -1 ? x.url : x.url.slice(0, q),
    status: x.status || null, aborted: x.aborted, protocol: 'raw', model_name: null, model_version: null,
    inference_id: null, parameters: null, inputs: null, outputs: null, response_parameters: null, usage: null,
    error: null, request_headers: null, response_headers: null, request_body: null, response_body: null,
    request_bytes: x.request.bytes, response_bytes: x.response.bytes, request_sha256: null, response_sha256: null,
    truncated: ['request_body', 'response_body'], redactions: [],
    schema_errors: [{ part: 'record', message: `inferlog could not build this record: ${describe(err)}` }],
    annotations: x.annotations,
  };
}
