import { InferlogError } from '../errors';
import type { OversightEvent, StoredEvent } from './event';

/** Options of the adapters' `inferenceEvents()` route handlers. */
export interface EventRouteOptions<Req> {
  /**
   * Who records the event, from the authenticated request (e.g. `(req) => req.user.id`). When given it
   * replaces any `actor` in the body, so a caller cannot speak for someone else. Default: the body's `actor`.
   */
  actor?: (req: Req) => string | undefined;
}

/** What the route answers: 201 with the stored event, 400 for an invalid event, 503 when it could not be stored. */
export interface EventReply {
  status: number;
  body: StoredEvent | { error: string };
}

/** The framework-independent part of the event routes: body in, stored event (or error) out. */
export async function recordEvent(store: (subject: string, event: OversightEvent) => Promise<StoredEvent>, subject: unknown, body: unknown, actor: string | undefined): Promise<EventReply> {
  if (typeof subject !== 'string' || subject === '') return { status: 400, body: { error: 'the route has no :id parameter naming the inference (its id or request id)' } };
  const event = typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...(body as Record<string, unknown>) } : body;
  if (actor !== undefined && typeof event === 'object' && event !== null) (event as Record<string, unknown>).actor = actor;
  try {
    return { status: 201, body: await store(subject, event as OversightEvent) };
  } catch (err) {
    const invalid = err instanceof InferlogError && /invalid oversight event/.test(err.message);
    return { status: invalid ? 400 : 503, body: { error: (err as Error).message } };
  }
}
