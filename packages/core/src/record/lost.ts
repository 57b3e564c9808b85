import type { Exchange } from '../capture/exchange';
import { storedText } from '../chain/canonical';
import type { LossReason, LostRecord } from '../chain/statement';
import { redact } from '../redact/redactor';
import type { CompiledRoute } from '../routes';
import type { InferenceRecord } from './record';

/**
 * A lost exchange as its record would have named it: its id, and its request id as the route's rules
 * would have stored it (a request id is a client's value; a rule may pseudonymise it).
 */
export function lostExchange(x: Exchange<CompiledRoute>, reason: LossReason): LostRecord {
  let requestId: string;
  try {
    const stored = redact(x.route.redactor, { request_id: x.requestId }).parts.request_id;
    requestId = typeof stored === 'string' && stored !== '' ? storedText(stored) : '[withheld]';
  } catch {
    requestId = '[withheld]';
  }
  return { id: x.id, request_id: requestId, at: new Date(x.startedAt).toISOString(), reason };
}

/** A lost record (built and redacted already), by its stored names. */
export function lostRecord(r: InferenceRecord, reason: LossReason): LostRecord {
  return { id: r.id, request_id: r.request_id, at: r.started_at.toISOString(), reason };
}
