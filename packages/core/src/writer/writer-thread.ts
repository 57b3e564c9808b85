// The writer thread: a LocalWriter fed by the logger's thread. Exchanges arrive in batches and become
// records here; counters go back through shared memory, failures and losses by message.
import { parentPort, workerData } from 'node:worker_threads';
import type { LossReason, LostRecord } from '../chain/statement';
import type { InferlogErrorCode } from '../errors';
import type { OversightEvent } from '../events/event';
import { resolveOptions } from '../options';
import { unpackExchanges } from './exchange-transfer';
import { LocalWriter } from './local-writer';
import { SharedStats } from './shared-stats';
import { sendError, type FromThread, type ThreadStart, type ToThread } from './thread-messages';

const start = workerData as ThreadStart;
const port = parentPort!;
const send = (message: FromThread) => port.postMessage(message);

const options = resolveOptions({
  ...start.options,
  // A Buffer key arrives as a Uint8Array (structured clone keeps no Buffer).
  ...(start.options.hmacKey instanceof Uint8Array ? { hmacKey: Buffer.from(start.options.hmacKey) } : {}),
  ...(start.onError ? { onError: (error) => send({ type: 'error', code: error.code, message: error.message }) } : {}),
  // Always told: the logger counts drops from these messages, so that `stats().dropped` and `onDrop` agree at every moment.
  onDrop: (count, message) => send({ type: 'drop', count, message }),
});
const writer = new LocalWriter(options, undefined, start.chainId);
const shared = new SharedStats(start.stats);
let takenBytes = 0;
let takenBatches = 0;
let said: { lastError: string | null; cause: string } = { lastError: null, cause: '' };

function publish(): void {
  const stats = writer.stats();
  shared.publish(stats, {
    takenBytes,
    takenBatches,
    volatileRows: writer.volatileRows,
    overflowing: writer.overflowing,
    hasWork: writer.hasWork,
  });
  const cause = writer.backlogCause();
  if (stats.lastError !== said.lastError || cause !== said.cause) {
    said = { lastError: stats.lastError, cause };
    send({ type: 'status', ...said });
  }
}

const calls = {
  flush: () => writer.flush(),
  ready: () => writer.ready(),
  event: (subject: string, event: OversightEvent) => writer.event(subject, event),
  close: (deadline: number, unfinished: number) => {
    // close() counts the unfinished requests before its first await: say so at once.
    const closed = writer.close(deadline, unfinished);
    send({ type: 'closing' });
    return closed;
  },
  beforeExit: () => writer.beforeExit(),
  drop: (count: number, reason: LossReason, code: InferlogErrorCode, message: string, lost?: LostRecord[]) => {
    writer.drop(count, reason, code, message, lost);
  },
} as const;

port.on('message', (message: ToThread) => {
  if (message.type === 'exchanges') {
    for (const exchange of unpackExchanges(message.batch, options)) {
      takenBytes += exchange.heldBytes;
      writer.take(exchange);
    }
    takenBatches++;
    publish();
    return;
  }
  const call = calls[message.method] as (...args: unknown[]) => unknown;
  Promise.resolve()
    .then(() => call(...message.args))
    .then(
      (value) => {
        publish();
        send({ type: 'reply', id: message.id, value });
      },
      (err: unknown) => {
        publish();
        send({ type: 'reply', id: message.id, error: sendError(err) });
      },
    );
});

setInterval(publish, 10);
