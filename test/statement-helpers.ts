// What the completeness tests share: reading a log's statements, forging one, and a logger behind a proxy
// whose queue fills when the database is cut (so that records are dropped on purpose).
import { STATEMENT_TYPE, statementMessage, type CompletenessStatement } from '@inferlog/core/audit';
import { inferenceLog } from '@inferlog/express';
import { Chain } from '../packages/core/src/chain/chain';
import { ChainWriter } from '../packages/core/src/chain/chain-writer';
import type { StoredEvent } from '../packages/core/src/events/event';
import { uuidv7 } from '../packages/core/src/ids';
import { resolveOptions } from '../packages/core/src/options';
import { openPostgresSink } from '../packages/core/src/sink/connect';
import type { PostgresSink } from '../packages/core/src/sink/postgres-sink';
import { DATABASE_URL, db, logOptions, until } from './helpers';
import { TcpProxy } from './tcp-proxy';

/** A log's completeness statements, oldest first. */
export const statements = async (schema: string): Promise<{ id: string; subject: string; data: CompletenessStatement }[]> =>
  db.any('SELECT id, subject, data FROM $1:name.inference_log_event WHERE type = $2 ORDER BY created_at, id', [schema, STATEMENT_TYPE]);

/**
 * Stores a statement about `subject` as an attacker with the writer role's rights could: in an event chain
 * of its own, correctly chained and hashed, signed with a key of its own (not the subject chain's).
 */
export async function forgeStatement(schema: string, subject: string, data: Omit<CompletenessStatement, 'signature'>): Promise<void> {
  const sink = (await openPostgresSink(resolveOptions(logOptions(schema)))) as PostgresSink;
  const forger = new ChainWriter(new Chain('event', 'x', '1'));
  const otherKey = new Chain('record', 'x', '1');
  try {
    await forger.register(sink);
    const row: StoredEvent = {
      id: uuidv7(),
      created_at: new Date(data.to),
      subject,
      type: STATEMENT_TYPE,
      actor: null,
      data: { ...data, signature: otherKey.sign(statementMessage(data)) },
      redactions: [],
    };
    await forger.sealAndWrite([row], ([sealed]) => sink.insertEvent(sealed!));
  } finally {
    await sink.close();
  }
}

/** A statement's data without its signature. */
export const unsigned = ({ signature: _, ...rest }: CompletenessStatement): Omit<CompletenessStatement, 'signature'> => rest;

/** An Express logger reaching the database through a proxy (to cut), dropping the newest record when its small queue is full. */
export async function droppingLogger(
  schema: string,
  proxies: TcpProxy[],
  options: { maxQueueBytes: number; databaseTimeoutMs: number; statementIntervalMs: number },
) {
  const proxy = await TcpProxy.create(DATABASE_URL);
  proxies.push(proxy);
  await proxy.accept();
  const log = inferenceLog(logOptions(schema, { database: proxy.url(DATABASE_URL), spillDir: false, overflow: 'drop-newest', ...options }));
  await log.ready();
  return { log, proxy };
}

/** Waits until the logger could write everything it holds (the database answers again). */
export function drained(log: { flush(): Promise<void> }): Promise<void> {
  return until(async () => {
    try {
      await log.flush();
      return true;
    } catch {
      return false;
    }
  }, 'the queue to drain once the database answers');
}
