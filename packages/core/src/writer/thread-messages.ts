import { InferlogError, type InferlogErrorCode } from '../errors';
import { EventConflictError } from '../events/event';
import type { InferenceLogOptions } from '../options';
import type { ExchangeBatch } from './exchange-transfer';

/** What the writer thread is started with. */
export interface ThreadStart {
  options: InferenceLogOptions;
  chainId: string;
  stats: SharedArrayBuffer;
  /** Whether the logger has `onError`: the thread then tells it each failure instead of printing it. Losses it always tells. */
  onError: boolean;
}

/** The writer's methods the logger calls across the thread. */
export type ThreadMethod = 'flush' | 'ready' | 'event' | 'close' | 'beforeExit' | 'drop';

export type ToThread = { type: 'exchanges'; batch: ExchangeBatch } | { type: 'call'; id: number; method: ThreadMethod; args: unknown[] };

/** An error as it crosses back: enough to make the same kind of error on the other side. */
export interface SentError {
  name: string;
  message: string;
  code?: InferlogErrorCode;
  conflict?: boolean;
}

export type FromThread =
  | { type: 'reply'; id: number; value?: unknown; error?: SentError }
  | { type: 'error'; code: InferlogErrorCode; message: string }
  | { type: 'drop'; count: number; message: string }
  | { type: 'status'; lastError: string | null; cause: string }
  /** The thread began close(): the requests unfinished at its deadline are counted (a writer taking over must not count them again). */
  | { type: 'closing' };

const PREFIX = 'inferlog: ';

export function sendError(err: unknown): SentError {
  if (err instanceof InferlogError)
    return { name: err.name, message: err.message, code: err.code, conflict: err instanceof EventConflictError };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** The error as the logger's callers know it: an `InferlogError` (an `EventConflictError` for a taken event id) or a plain Error. */
export function receivedError(sent: SentError): Error {
  if (!sent.code) return Object.assign(new Error(sent.message), { name: sent.name });
  const message = sent.message.startsWith(PREFIX) ? sent.message.slice(PREFIX.length) : sent.message;
  const error = new InferlogError(sent.code, message);
  return sent.conflict ? Object.setPrototypeOf(error, EventConflictError.prototype) : error;
}
